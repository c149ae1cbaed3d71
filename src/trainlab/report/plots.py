"""The report's figures of any sweep: every job's validation curves overlaid, and a heatmap of a two-factor grid.

matplotlib is imported only here, when a figure is written, with the Agg backend (no display needed).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from trainlab.report.collect import Sweep, factors, finite, history

CURVES_FILE = "val_curves.png"
HEATMAP_FILE = "heatmap.png"


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(sweep: Sweep) -> Path | None:
    """`val_curves.png`: per-epoch val/loss and val/acc (and the optimized metric if it is another val/ metric),
    one line per job labelled by its overrides; None when no job has per-epoch values."""
    curves = {job.dir: history(job) for job in sweep.jobs}
    keys = [k for k in ("val/loss", "val/acc") if any(k in row for rows in curves.values() for row in rows)]
    if (
        sweep.metric.startswith("val/")
        and sweep.metric not in keys
        and any(sweep.metric in row for rows in curves.values() for row in rows)
    ):
        keys.append(sweep.metric)
    if not keys:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 4.5), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for job in sweep.jobs:
            points = [(row["epoch"], row[key]) for row in curves[job.dir] if key in row and "epoch" in row]
            if points:
                label = f"{job.dir.name}: {' '.join(sweep.changed[job.dir])}".strip(": ")
                ax.plot(*zip(*points, strict=True), marker="o", markersize=3, label=label)
        ax.set(xlabel="epoch", ylabel=key, title=key)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), fontsize="small", frameon=False)
    rows = math.ceil(len(labels) / 3)
    fig.tight_layout(rect=(0, min(0.45, 0.06 * rows + 0.02), 1, 1))
    return save(fig, sweep.dir / CURVES_FILE)


def plot_heatmap(sweep: Sweep) -> Path | None:
    """`heatmap.png`: the optimized metric over the grid when exactly two keys were swept (the mean where a cell
    has several completed jobs, blank where it has none); None for any other sweep."""
    swept = factors(sweep)
    if len(swept) != 2:
        return None
    (row_key, row_values), (col_key, col_values) = swept.items()
    cells: dict[tuple[str, str], list[float]] = {}
    for job in sweep.jobs:
        setting = {key.lstrip("+~"): value for key, _, value in (o.partition("=") for o in sweep.changed[job.dir])}
        value = job.metrics.get(sweep.metric)
        if sweep.status(job) == "completed" and finite(value):
            cells.setdefault((setting.get(row_key, ""), setting.get(col_key, "")), []).append(float(value))
    grid = [[mean(cells.get((r, c))) for c in col_values] for r in row_values]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.6 * len(col_values) + 3, 1.0 * len(row_values) + 2))
    image = ax.imshow([[math.nan if v is None else v for v in row] for row in grid], cmap="viridis")
    ax.set_xticks(range(len(col_values)), labels=col_values)
    ax.set_yticks(range(len(row_values)), labels=row_values)
    ax.set(xlabel=col_key, ylabel=row_key, title=sweep.metric)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            ax.text(j, i, "—" if value is None else f"{value:.4f}", ha="center", va="center", color="white")
    fig.colorbar(image, ax=ax, label=sweep.metric)
    fig.tight_layout()
    return save(fig, sweep.dir / HEATMAP_FILE)


def mean(values: list[float] | None) -> float | None:
    return sum(values) / len(values) if values else None


def save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path
