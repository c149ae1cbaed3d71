"""A compact model summary: the net's layers and parameter counts, nothing else.

Lightning's own summary lists the LightningModule's every submodule (the metric accumulators too) with a FLOPs
column that stays zero for most models; this one shows only the net (`pl_module.net`), one line per layer:

    net MLP: 269,322 parameters (269,322 trainable)
      layers.0  Flatten(start_dim=1, end_dim=-1)                            0
      layers.1  Linear(in_features=784, out_features=256, bias=True)  200,960
"""

from __future__ import annotations

import logging

import lightning as L
from torch import nn

from trainlab.callbacks.lean import LeanCallback
from trainlab.outputs import parameter_counts

log = logging.getLogger(__name__)


def layer_rows(net: nn.Module, max_depth: int) -> list[tuple[str, str, int]]:
    """(name, description, parameters) of each leaf module, or of the module at `max_depth` holding deeper ones."""
    rows = []
    for name, module in net.named_modules():
        depth = name.count(".") + 1 if name else 0
        children = list(module.children())
        if not name or (children and depth < max_depth):
            continue
        if any(name.startswith(parent + ".") for parent, _, _ in rows):  # already folded into a row above
            continue
        extra = module.extra_repr() if not children else ""
        rows.append((name, f"{type(module).__name__}({extra})", sum(p.numel() for p in module.parameters())))
    return rows


def summary_text(net: nn.Module, max_depth: int = 3) -> str:
    counts = parameter_counts(net)
    rows = layer_rows(net, max_depth)
    head = f"net {type(net).__name__}: {counts['params/total']:,} parameters ({counts['params/trainable']:,} trainable)"
    if not rows:
        return head
    name_w = max(len(r[0]) for r in rows)
    desc_w = max(len(r[1]) for r in rows)
    count_w = max(len(f"{r[2]:,}") for r in rows)
    lines = [f"  {name:<{name_w}}  {desc:<{desc_w}}  {count:>{count_w},}" for name, desc, count in rows]
    return "\n".join([head, *lines])


class NetSummary(LeanCallback):
    """Log the net's layers (up to `max_depth` levels deep) and parameter counts when fitting starts."""

    def __init__(self, max_depth: int = 3) -> None:
        self.max_depth = max_depth

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            log.info(summary_text(getattr(pl_module, "net", pl_module), self.max_depth))
