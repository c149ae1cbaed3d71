"""Checking an accelerator request against the machine before anything heavy starts."""

from __future__ import annotations

import torch

from trainlab.errors import UserError


def check_accelerator(accelerator: str, devices: int | str | list[int]) -> None:
    """Fail at once, with the fix, when the config asks for hardware this machine does not have."""
    if accelerator in ("gpu", "cuda"):
        available, kind = torch.cuda.device_count(), "CUDA GPU"
    elif accelerator == "mps":
        available, kind = int(torch.backends.mps.is_available()), "Apple MPS device"
    else:
        return
    if available == 0:
        raise UserError(
            f"trainer/accelerator={accelerator}: no {kind} is visible to PyTorch {torch.__version__} on this machine; "
            "use trainer/accelerator=cpu (or auto)"
        )
    wanted = len(devices) if isinstance(devices, list) else devices
    if isinstance(wanted, int) and wanted > available:
        raise UserError(
            f"trainer.devices={wanted}: only {available} {kind}(s) available; use trainer.devices={available}"
        )
