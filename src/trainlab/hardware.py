"""Checking an accelerator request against the machine before anything heavy starts."""

from __future__ import annotations

import importlib.util
from typing import Any

import torch

from trainlab.config.errors import UserError


def requested_devices(devices: Any) -> tuple[int | None, list[int]]:
    """(how many devices, which indices) `trainer.devices` asks for: an int, -1 or "auto" (None: all there are),
    a list of indices, or a string like "0,1" (Lightning reads a string of one number as a count)."""
    if isinstance(devices, str):
        text = devices.strip().rstrip(",")
        if text in ("auto", "-1", ""):
            return None, []
        if "," not in devices:
            return int(text), []
        devices = [int(part) for part in text.split(",")]
    if isinstance(devices, int):
        return (None if devices == -1 else devices), []
    indices = [int(d) for d in devices]
    return len(indices), indices


def check_accelerator(accelerator: Any, devices: Any) -> None:
    """Fail at once, with the fix, when the config asks for hardware this machine does not have."""
    if accelerator in ("gpu", "cuda"):
        available, kind = torch.cuda.device_count(), "CUDA GPU"
    elif accelerator == "mps":
        available, kind = int(torch.backends.mps.is_available()), "Apple MPS device"
    elif accelerator == "tpu":
        if importlib.util.find_spec("torch_xla") is None:
            raise UserError(
                "trainer.accelerator=tpu: TPUs need torch_xla, which is not installed; use trainer/accelerator=cpu "
                "(or auto)"
            )
        return
    else:
        return
    if available == 0:
        raise UserError(
            f"trainer/accelerator={accelerator}: no {kind} is visible to PyTorch {torch.__version__} on this machine; "
            "use trainer/accelerator=cpu (or auto)"
        )
    try:
        wanted, indices = requested_devices(devices)
    except (TypeError, ValueError):
        return  # not a form we know: Lightning reports it
    missing = [i for i in indices if i >= available]
    if missing:
        raise UserError(
            f"trainer.devices={devices}: no {kind} with index {', '.join(map(str, missing))} (this machine has "
            f"{available}: {'index 0' if available == 1 else f'indices 0–{available - 1}'}); use trainer.devices=auto"
        )
    if wanted is not None and wanted > available:
        raise UserError(
            f"trainer.devices={devices}: asks for {wanted} {kind}(s), but this machine has {available}; "
            f"use trainer.devices={available} (or auto)"
        )
