"""What a run leaves behind for people and sweepers: `metrics.json` and a short summary on the console."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from torch import Tensor


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


def print_summary(title: str, metrics: Mapping[str, Any], path: Path) -> None:
    table = Table(title=title, show_header=False)
    for key, value in metrics.items():
        table.add_row(key, number(value) if isinstance(value, float) else str(value))
    console = Console()
    console.print(table)
    console.print(f"metrics written to {path}")


def print_config(cfg: Any) -> None:
    """Show the composed config (every choice of the run) as YAML before training starts."""
    from omegaconf import OmegaConf
    from rich.syntax import Syntax

    Console().print(Syntax(OmegaConf.to_yaml(cfg, resolve=True), "yaml", theme="ansi_dark"))
