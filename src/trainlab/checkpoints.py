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


def check_same_net(path: str, net: dict[str, Any], in_shape: list[int], num_classes: int) -> None:
    """Refuse, in one line, to start from a checkpoint of another net (another model, shape or data set): Lightning
    would fail deep inside `load_state_dict` with a traceback of missing and unexpected keys."""
    saved = load_checkpoint(path)["hyper_parameters"]
    ours = {"net": net, "in_shape": list(in_shape), "num_classes": num_classes}
    differ = [key for key in ours if saved.get(key) != ours[key]]
    if not differ:
        return
    if "net" in differ:
        keys = ["_target_"] if saved["net"].get("_target_") != net.get("_target_") else sorted({*saved["net"], *net})
        details = [
            f"model.{k}={saved['net'].get(k)} (this run: {net.get(k)})"
            for k in keys
            if saved["net"].get(k) != net.get(k)
        ]
    else:
        details = [f"{k}={saved.get(k)} (this run: {ours[k]})" for k in differ]
    raise UserError(
        f"ckpt_path={path}: the checkpoint holds another net: {'; '.join(details)}; start from it with the same model "
        "and data overrides it was trained with, or continue its own run with hydra.run.dir=<its run dir> resume=true"
    )
