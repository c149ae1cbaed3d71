"""Time one Adam/AdamW step of the default MLP (784-256-256-10) three ways: torch's per-tensor loop (its CPU
default), `foreach=True` and `fused=True` (conf/optimizer/adamw.yaml's choice).

Plain PyTorch, one process: the gradients of one batch of 128 are computed once, then each variant takes 100 steps
in turn, round after round, so machine noise hits all three alike. Wall and CPU (all threads) per step, medians.

    python benchmarks/optimizer_step.py --rounds 8
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from torch import nn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100, help="steps per variant and round")
    parser.add_argument("--optimizer", choices=["Adam", "AdamW"], default="AdamW")
    args = parser.parse_args()

    torch.manual_seed(0)
    layers = [nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)]
    net = nn.Sequential(*layers)
    x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
    nn.functional.cross_entropy(net(x), y).backward()  # the same gradients for every step of every variant
    make = getattr(torch.optim, args.optimizer)
    variants = {"loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    optimizers = {name: make(net.parameters(), lr=1e-6, **kw) for name, kw in variants.items()}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(args.rounds + 1):  # the first round warms up and is dropped
        for name, optimizer in optimizers.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                optimizer.step()
            times[name].append(((time.perf_counter() - wall) / args.steps, (time.process_time() - cpu) / args.steps))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    for name, rows in times.items():
        wall = statistics.median(w for w, _ in rows[1:]) * 1e3
        cpu = statistics.median(c for _, c in rows[1:]) * 1e3
        print(f"{args.optimizer} {name:8s} {wall:.3f} ms wall, {cpu:.3f} ms cpu per step")


if __name__ == "__main__":
    main()
