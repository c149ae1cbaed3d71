"""The diagnostics' PNGs, drawn with matplotlib's object API on the Agg canvas (no pyplot, no display needed).

matplotlib is imported inside each function, when a plot is written. Drawing is kept cheap (about 0.05–0.1 s of
CPU a plot on a 2-core VM): a small figure, few ticks, no automatic layout (`benchmarks/monitors.py` measures the
whole cost of the diagnostics). Each file is written to a temporary name and renamed, so a reader never sees half
a PNG.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Row = Mapping[str, Any]


def _figure(panels: int, width: float = 4.2, height: float = 3.0) -> tuple[Any, list[Any]]:
    import matplotlib

    matplotlib.use("Agg")  # no display: Agg renders to memory
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(width * panels, height), dpi=72)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.28, top=0.95, wspace=0.25)
    axes = list(figure.subplots(1, panels, squeeze=False)[0])
    for ax in axes:  # few ticks: tick labels are most of a small plot's drawing time
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.grid(alpha=0.3)
    return figure, axes


def _legend(figure: Any, ax: Any, columns: int = 5) -> None:
    """One legend for the figure, below the panels, from `ax`'s labels (a fixed place: no search for the best)."""
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(columns, len(labels)), fontsize=8, frameon=False)


def save(figure: Any, path: Path) -> None:
    """Render `figure` to `path` (PNG) atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, format="png")
    os.replace(tmp, path)


def image_array(figure: Any) -> Any:
    """The rendered figure as an H×W×3 uint8 array (for TensorBoard), after `save`."""
    import numpy as np

    return np.asarray(figure.canvas.buffer_rgba())[..., :3]


def _series(history: Sequence[Row], key: str) -> tuple[list[int], list[float]]:
    rows = [row for row in history if row.get(key) is not None]
    return [int(row["epoch"]) for row in rows], [float(row[key]) for row in rows]


def learning_curves(history: Sequence[Row], best_epoch: int | None) -> Any:
    """Train vs val loss and accuracy per epoch; the gap between them shaded, the best epoch marked."""
    figure, axes = _figure(2)
    for ax, metric in zip(axes, ("loss", "acc"), strict=True):
        train, val = _series(history, f"train/{metric}"), _series(history, f"val/{metric}")
        ax.plot(*train, marker="o", ms=3, label=f"train/{metric}")
        ax.plot(*val, marker="o", ms=3, label=f"val/{metric}")
        both = [row for row in history if row.get(f"train/{metric}") is not None and row.get(f"val/{metric}")]
        if both:
            ax.fill_between(
                [row["epoch"] for row in both],
                [row[f"train/{metric}"] for row in both],
                [row[f"val/{metric}"] for row in both],
                color="tab:red",
                alpha=0.15,
                label="gap",
            )
        if best_epoch is not None:
            ax.axvline(best_epoch, color="grey", ls="--", lw=1, label=f"best epoch {best_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if metric == "loss" else "accuracy")
    handles, labels = axes[0].get_legend_handles_labels()
    labels = [label.removesuffix("/loss") for label in labels]  # train, val, gap, best epoch: same in both panels
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    return figure


def gradient_flow(steps: Sequence[int], layers: Sequence[str], norms: Sequence[Sequence[float]], ratios: Any) -> Any:
    """Per-layer gradient norms and update/weight ratios over the recorded steps (log scale), first layer to last."""
    from matplotlib.ticker import LogLocator

    figure, axes = _figure(2)
    for ax, values, label in ((axes[0], norms, "gradient norm ‖∇w‖"), (axes[1], ratios, "update ratio ‖Δw‖/‖w‖")):
        for i, layer in enumerate(layers):
            ax.plot(steps, [max(row[i], 1e-30) for row in values], lw=1, label=layer)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(numticks=5))
        ax.set_xlabel("step")
        ax.set_ylabel(label)
    _legend(figure, axes[0], columns=6)
    return figure


def activations(epochs: Sequence[int], layers: Sequence[str], stats: Sequence[Mapping[str, Sequence[float]]]) -> Any:
    """Per-layer activation std and saturation share (dead ReLUs, sigmoid/tanh near their flat ends) by epoch."""
    figure, axes = _figure(2)
    for i, layer in enumerate(layers):
        axes[0].plot(epochs, [s["std"][i] for s in stats], marker="o", ms=3, label=layer)
        axes[1].plot(epochs, [s["saturated"][i] for s in stats], marker="o", ms=3, label=layer)
    axes[0].set_ylabel("activation std")
    axes[1].set_ylabel("saturated / dead share")
    axes[1].set_ylim(-0.02, 1.02)
    for ax in axes:
        ax.set_xlabel("epoch")
    _legend(figure, axes[0], columns=6)
    return figure
