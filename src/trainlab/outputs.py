"""What a run leaves behind for people and sweepers: `metrics.json` and a short summary on the console."""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from torch import Tensor
from torch.nn import Module

from trainlab.console import is_terminal

log = logging.getLogger(__name__)


def plain_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Turn logged tensors into numbers that JSON can hold (NaN and inf become null)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, Tensor):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        out[key] = value
    return out


def write_metrics(path: Path, metrics: Mapping[str, Any]) -> None:
    """Write `metrics.json` atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(dict(metrics), f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def number(value: float) -> str:
    """Four decimals, or four significant digits for small values such as a final learning rate."""
    return f"{value:.4g}" if value and abs(value) < 1e-3 else f"{value:.4f}"


def parameter_counts(net: Module) -> dict[str, int]:
    """`params/total` and `params/trainable` of a net, as `metrics.json` records them."""
    params = list(net.parameters())
    return {
        "params/total": sum(p.numel() for p in params),
        "params/trainable": sum(p.numel() for p in params if p.requires_grad),
    }


def shown_in_summary(key: str, value: Any) -> bool:
    """Per-epoch rows, per-class tables, the confusion matrix and the verdict's inputs (its line is printed at the
    end of fit) stay in metrics.json only: the summary keeps to what a person compares between runs."""
    if key == "history" or isinstance(value, Mapping):
        return False
    return not key.startswith("diagnosis/") or key == "diagnosis/verdict"


def print_summary(title: str, metrics: Mapping[str, Any], path: Path) -> None:
    """The final metrics: a table in a terminal; in a file, plain `key  value` lines (no padding, nothing cut)."""
    rows = [
        (key, number(value) if isinstance(value, float) else str(value))
        for key, value in metrics.items()
        if shown_in_summary(key, value)
    ]
    if not is_terminal():
        width = max((len(key) for key, _ in rows), default=0)
        print("\n".join([title, *(f"  {key:<{width}}  {value}" for key, value in rows), f"metrics written to {path}"]))
        return
    table = Table(title=title, show_header=False)
    table.add_column()
    table.add_column(overflow="fold")  # a long value (ckpt_best's path) goes on over lines, never cut with "…"
    for row in rows:
        table.add_row(*row)
    console = Console()
    console.print(table)
    console.print(f"metrics written to {path}", soft_wrap=True)


def config_lines(cfg: Any) -> list[str]:
    """The run's choices in a few lines: its group options, its command-line overrides, where the full config is."""
    from hydra.core.hydra_config import HydraConfig

    lines = []
    if HydraConfig.initialized():
        hc = HydraConfig.get()
        picked = hc.runtime.choices
        choices = [f"{group}={option}" for group, option in config_order(picked) if shown(group, option)]
        choices = [c for c in choices if c != f"metrics={picked.get('task')}"]  # implied by the task
        lines.append(f"{hc.job.name}: {' '.join(choices)}")
        if hc.overrides.task:
            lines.append(f"overrides: {' '.join(hc.overrides.task)}")
        saved = Path(hc.runtime.output_dir) / hc.output_subdir if hc.output_subdir else None
        if saved is not None:
            lines.append(f"full config: {saved / 'config.yaml'} (or add --cfg job to print it)")
    else:  # called outside a Hydra run (e.g. from Python): nothing to say but where the results go
        lines.append(f"output dir: {cfg.paths.output_dir}")
    return lines


def config_order(choices: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Hydra records the choices last group first: the defaults list's order, each subgroup after its group."""
    items = list(reversed(choices.items()))
    top = [group for group, _ in items if "/" not in group]

    def key(item: tuple[str, Any]) -> tuple[int, int]:
        parent = item[0].split("/")[0]
        return (top.index(parent) if parent in top else len(top), item[0].count("/"))

    return sorted(items, key=key)


def shown(group: str, option: Any) -> bool:
    """Groups worth naming: not Hydra's own, not the paths, and not the unset optional ones (experiment=null)."""
    return option is not None and not group.startswith("hydra") and group != "paths"


def print_config(cfg: Any) -> None:
    """Show the run's choices compactly before training starts (logged, so the run's log file has them too)."""
    log.info("\n".join(config_lines(cfg)))
