"""What each diagnostics PNG costs to draw, in CPU seconds (less sensitive to other jobs on a shared machine than
wall time): curves.png, gradients.png, activations.png and confusion.png with the data of a default 3-epoch MNIST
run, each drawn once in a fresh process (the cost a run pays, first use of matplotlib's fonts included), then the
median of 5 more. A run draws them in its drawing process (`trainlab/diagnostics/drawer.py`), beside training.
PNGs go to a temporary folder (or --out).

    python benchmarks/plots.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from trainlab.diagnostics import plots

HISTORY = [
    {"epoch": e, "train/loss": tl, "train/acc": ta, "val/loss": vl, "val/acc": va, "train/lr": 1e-3}
    for e, (tl, ta, vl, va) in enumerate(
        [(0.1907, 0.9429, 0.1061, 0.9668), (0.0628, 0.9809, 0.0718, 0.9780), (0.0274, 0.9931, 0.0640, 0.9812)], 1
    )
]
STEPS = [1, 51, 101, 151, 201, 216, 251, 301, 351, 401, 431, 451, 501, 551, 601]  # the default run's records


def jobs(out: Path) -> dict[str, Callable[[], None]]:
    g = torch.Generator().manual_seed(0)
    norms = (torch.rand(len(STEPS), 3, generator=g) + 0.1).tolist()
    ratios = (torch.rand(len(STEPS), 3, generator=g) * 1e-3 + 1e-4).tolist()
    stats = [{"mean": [0.3, 0.4], "std": [0.5, 0.6], "saturated": [0.01, 0.02]} for _ in range(3)]
    mistakes = (torch.rand(10, 10, generator=g) < 0.5).long() * torch.randint(0, 8, (10, 10), generator=g)
    counts = torch.eye(10, dtype=torch.long) * 980 + mistakes
    layers = ["layers.1", "layers.4", "layers.7"]
    return {
        "curves.png": lambda: plots.save(plots.learning_curves(HISTORY, 3), out / "curves.png"),
        "gradients.png": lambda: plots.save(plots.gradient_flow(STEPS, layers, norms, ratios), out / "gradients.png"),
        "activations.png": lambda: plots.save(
            plots.activations([1, 2, 3], ["layers.3", "layers.6"], stats), out / "activations.png"
        ),
        "confusion.png": lambda: plots.save(
            plots.confusion(counts.tolist(), [str(i) for i in range(10)], "confusion"), out / "confusion.png"
        ),
    }


def cpu_seconds(draw: Callable[[], None]) -> float:
    start = time.process_time()
    draw()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the PNGs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        drawings = jobs(out)
        first = {name: cpu_seconds(draw) for name, draw in drawings.items()}
        for name, draw in drawings.items():
            again = statistics.median(cpu_seconds(draw) for _ in range(5))
            print(f"{name:<16} first {first[name]:.3f} s cpu, then median {again:.3f} s cpu")
        print(f"{'all, first each':<16} {sum(first.values()):.3f} s cpu")


if __name__ == "__main__":
    main()
