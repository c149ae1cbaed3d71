"""Which recipe trains the default MLP (784-256-256-10) to ≥ 98% MNIST test accuracy fastest? A plain loop answers.

Each seed trains trainlab's own `MLP` on trainlab's in-memory MNIST (`MNISTDataModule`: the same 55k/5k split,
standardized inputs and seeded shuffles as `python src/train.py seed=N`) with a plain PyTorch loop: validation after
every epoch, the test set once at the end (the final weights). It prints each seed's test accuracy and fit time.

    TRAINLAB_DATA_DIR=../shared/data python benchmarks/recipe_search.py --batch-size 256 --epochs 3 \
        --schedule onecycle --optimizer adamw --lr 1e-3 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.data import MNISTDataModule
from trainlab.models import MLP

ROOT = Path(__file__).resolve().parents[1]


def datamodule(batch_size: int, seed: int) -> MNISTDataModule:
    """trainlab's MNIST, set up for `seed` (its validation split and shuffles depend on the seed)."""
    data_dir = os.environ.get("TRAINLAB_DATA_DIR", str(ROOT / "data"))
    cache_dir = Path(tempfile.gettempdir()) / "trainlab-bench-cache"  # never the repo tree
    dm = MNISTDataModule(data_dir, cache_dir, batch_size=batch_size, eval_batch_size=1000, seed=seed)
    dm.setup("fit")
    return dm


def optimizer_for(net: nn.Module, name: str, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """Adam or AdamW; weight decay (AdamW) on weights only, as trainlab's `regularization.weight_decay` does."""
    if name == "adam":
        return torch.optim.Adam(net.parameters(), lr=lr)
    weights = [p for p in net.parameters() if p.ndim > 1]
    rest = [p for p in net.parameters() if p.ndim <= 1]
    groups = [{"params": weights, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr)


def scheduler_for(optimizer: torch.optim.Optimizer, name: str, lr: float, steps: int):
    """Stepped every batch, with trainlab's conf/scheduler/{onecycle,cosine}.yaml arguments."""
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
            cycle_momentum=False,
        )  # fmt: skip
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=0.0)
    return None


@torch.no_grad()
def accuracy(net: nn.Module, batches) -> float:
    net.eval()
    correct = total = 0
    for x, y in batches:
        correct += int((net(x).argmax(dim=1) == y).sum())
        total += len(y)
    return correct / total


def run(args: argparse.Namespace, seed: int) -> tuple[float, float, float, list[float]]:
    """(test accuracy, fit wall seconds, fit CPU seconds, validation accuracy per epoch) of one seed."""
    torch.manual_seed(seed)  # as trainlab's seed_everything before it builds the net: the same initial weights
    dm = datamodule(args.batch_size, seed)
    net = MLP(list(dm.shape), dm.num_classes, hidden=(256, 256), batchnorm=args.batchnorm)
    train = dm.train_dataloader()
    optimizer = optimizer_for(net, args.optimizer, args.lr, args.weight_decay)
    scheduler = scheduler_for(optimizer, args.schedule, args.lr, args.epochs * len(train))
    val_accs = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        net.train()
        for x, y in train:
            loss = F.cross_entropy(net(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
        val_accs.append(accuracy(net, dm.val_dataloader()))
    fit, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return accuracy(net, dm.test_dataloader()), fit, cpu, val_accs


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # one line per seed as it finishes
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--schedule", choices=["onecycle", "cosine", "none"], default="onecycle")
    parser.add_argument("--optimizer", choices=["adam", "adamw"], default="adamw")
    parser.add_argument("--lr", type=float, default=1e-3, help="the peak lr (one-cycle) or the start lr (cosine)")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="AdamW's decoupled decay, weights only")
    parser.add_argument("--batchnorm", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    recipe = (
        f"batch {args.batch_size}, {args.epochs} epochs, {args.schedule} {args.optimizer} lr {args.lr:g}"
        f"{f' wd {args.weight_decay:g}' if args.weight_decay else ''}{', batch norm' if args.batchnorm else ''}"
    )
    accs, fits, cpus = [], [], []
    for seed in args.seeds:
        acc, fit, cpu, val = run(args, seed)
        accs.append(acc)
        fits.append(fit)
        cpus.append(cpu)
        vals = " ".join(f"{v:.4f}" for v in val)
        print(f"{recipe} | seed {seed}: test acc {acc:.4f}, fit {fit:.2f} s ({cpu:.2f} s CPU), val acc {vals}")
    print(
        f"{recipe} | test acc {' '.join(f'{a:.4f}' for a in accs)} (min {min(accs):.4f}), "
        f"median fit {statistics.median(fits):.2f} s wall, {statistics.median(cpus):.2f} s CPU"
    )


if __name__ == "__main__":
    main()
