"""Per-epoch mean loss and accuracy, accumulated on the device with one tensor op per step.

torchmetrics does the same job with a few hundred microseconds of Python per update; on a small MLP that is a
large share of the step. Here each step adds one row to a running sum, and the sum is read (and, under DDP,
summed across processes) once per epoch.
"""

from __future__ import annotations

import torch
from torch import Tensor


class EpochMeans(torch.nn.Module):
    """Running sums of (Σ loss·n, Σ correct, Σ n, Σ penalty, steps) for one stage of training."""

    def __init__(self) -> None:
        super().__init__()
        # A plain attribute, not a buffer: DDP broadcasts buffers from rank zero before each forward, which would
        # overwrite every other rank's sums. It follows the data's device on the first update.
        self.sums = torch.zeros(5, dtype=torch.float64)

    @torch.no_grad()
    def update(self, loss: Tensor, logits: Tensor, target: Tensor, penalty: Tensor | None = None) -> None:
        if self.sums.device != target.device:
            self.sums = self.sums.to(target.device)
        # torch.full is a fill kernel on the device; new_tensor(len(target)) would be a host-to-device copy.
        n = torch.full((), len(target), dtype=torch.float64, device=target.device)
        correct = (logits.argmax(dim=1) == target).sum()
        pen = penalty.detach() if penalty is not None else n.new_zeros(())
        row = torch.stack([loss.detach().double() * n, correct.double(), n, pen.double(), n.new_ones(())])
        self.sums.add_(row)

    def compute(self, reduce=None) -> dict[str, Tensor]:
        """Means over the epoch; `reduce` (e.g. the strategy's sum across processes) runs on the sums first."""
        sums = reduce(self.sums) if reduce is not None else self.sums
        loss_n, correct, n, penalty, steps = sums.unbind()
        return {"loss": (loss_n / n).float(), "acc": (correct / n).float(), "penalty": (penalty / steps).float()}

    def reset(self) -> None:
        self.sums.zero_()
