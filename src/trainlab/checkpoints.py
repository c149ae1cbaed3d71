"""Reading a checkpoint file with clear errors; imports only torch, so a bad path fails in about a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from trainlab.config.errors import UserError


def load_checkpoint(path: str | None) -> dict[str, Any]:
    """A trainlab checkpoint as plain data (`weights_only=True`: nothing in it can run code)."""
    if not path:
        raise UserError("ckpt_path is not set; use python src/eval.py ckpt_path=<run dir>/checkpoints/<file>.ckpt")
    file = Path(path)
    if not file.is_file():
        raise UserError(f"ckpt_path={path}: no such file; pass a .ckpt file from a run's checkpoints/ folder")
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:
        raise UserError(f"ckpt_path={path}: not a readable trainlab checkpoint ({type(err).__name__})") from err
    if not isinstance(checkpoint, dict) or not {"hyper_parameters", "state_dict"} <= checkpoint.keys():
        raise UserError(f"ckpt_path={path}: not a trainlab checkpoint (no hyper_parameters or state_dict)")
    return checkpoint
