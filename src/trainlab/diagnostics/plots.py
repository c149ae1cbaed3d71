"""The diagnostics' PNGs (and the test confusion matrix), drawn with matplotlib's object API on the Agg canvas (no
pyplot, no display needed).

Drawing is kept cheap (0.03–0.06 s of CPU a plot on a 2-core VM): a small figure at 72 dpi, fixed panel positions
(no tight_layout or bbox_inches="tight", which draw everything twice), few ticks, plain tick labels (a log axis's
default 10^x labels go through mathtext, whose parser alone costs 0.4 s on first use), and few text artists
(`benchmarks/monitors.py` measures the whole cost of the diagnostics). Each file is written to a temporary name and
renamed, so a reader never sees half a PNG.

A run's plots are drawn by the drawing process (`drawer.py`): `write` hands it a figure function of this module and
its arguments and returns at once; `wait` (at the end of fit and test, before the loggers read the PNGs) returns
once every one is written. So the training process never imports matplotlib for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from trainlab.diagnostics import drawer

Row = Mapping[str, Any]


def write(path: Path, build: Callable[..., Any], *args: Any) -> None:
    """Draw `build(*args)` to `path` in the drawing process. `build` is one of this module's figure functions and
    `args` plain data (lists, dicts, numbers, strings): the drawer has neither torch nor the caller's objects."""
    if globals().get(build.__name__) is not build:
        raise ValueError(f"plots.write draws this module's figure functions, not {build.__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    drawer.submit(path, build.__name__, args)


def wait() -> None:
    """Return once every PNG asked of `write` is written. A plot that failed is one warning line, not a failed run."""
    drawer.wait()


def warm_up() -> None:
    """Import matplotlib and load its font: what a process's first plot pays (the drawing process does it at once)."""
    from io import BytesIO

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure, axes = _figure(1)
    axes[0].set_xlabel("epoch")
    FigureCanvasAgg(figure).print_png(BytesIO())


def _figure(panels: int, width: float = 4.2, height: float = 3.0) -> tuple[Any, list[Any]]:
    import matplotlib

    matplotlib.use("Agg")  # no display: Agg renders to memory
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(width * panels, height), dpi=72)
    figure.subplots_adjust(left=0.09, right=0.98, bottom=0.28, top=0.95, wspace=0.28)
    axes = list(figure.subplots(1, panels, squeeze=False)[0])
    for ax in axes:  # few ticks: tick labels are most of a small plot's drawing time
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.grid(alpha=0.3)
    return figure, axes


def _log_axis(ax: Any, values: Sequence[Sequence[float]]) -> None:
    """A log-scale y axis with a few plain tick labels (`0.2`, `1e-03`): at 1, 2 and 5 × a power of ten when the
    values span less than two decades, else at powers of ten; none on the minor ticks."""
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    positive = [v for row in values for v in row if v > 0 and math.isfinite(v)]
    decades = math.log10(max(positive) / min(positive)) if positive else 0.0
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades < 2 else (1.0,), numticks=6))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}" if v < 0.01 or v >= 1e4 else f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


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
    figure, axes = _figure(2)
    for ax, values, label in ((axes[0], norms, "gradient norm ‖∇w‖"), (axes[1], ratios, "update ratio ‖Δw‖/‖w‖")):
        for i, layer in enumerate(layers):
            ax.plot(steps, [max(row[i], 1e-30) for row in values], lw=1, label=layer)
        _log_axis(ax, values)
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


def confusion(counts: Sequence[Sequence[int]], names: Sequence[str], title: str) -> Any:
    """A confusion-matrix heat map of `counts[true][predicted]` (rows as shares of their true class); the mistakes'
    counts written in (the non-zero cells off the diagonal) when there are at most 30 classes."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    counts = np.asarray(counts, dtype=np.int64)
    shares = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    k = len(names)
    size = max(4.0, 0.4 * k + 1.6)
    figure = Figure(figsize=(size + 0.9, size), dpi=72)
    margin = 0.85 / size + (0.25 if max(map(len, names), default=0) > 2 else 0.0)  # room for the tick labels
    side = 1 - margin - 0.35 / size
    ax = figure.add_axes((margin * size / (size + 0.9), margin, side * size / (size + 0.9), side))
    cax = figure.add_axes(((size - 0.2) / (size + 0.9), margin, 0.15 / (size + 0.9), side))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, cax=cax, ticks=[0, 0.5, 1]).set_label("share of the true class", fontsize=8)
    if k <= 30:  # counts stay legible up to about this many classes
        off = counts.copy()
        np.fill_diagonal(off, 0)
        for i, j in zip(*off.nonzero(), strict=True):
            color = "white" if shares[i, j] > 0.5 else "black"
            ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=7, color=color)
    ticks = range(k)
    ax.set_xticks(ticks, names, rotation=90 if max(map(len, names), default=0) > 2 else 0, fontsize=8)
    ax.set_yticks(ticks, names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{title} (mistakes written in)", fontsize=9)
    return figure
