"""The default recipe as a plain PyTorch script: what `python src/train.py` does, with nothing but torch.

Same data (the MNIST tensors trainlab caches, the same seeded 55k/5k split, standardization and per-epoch shuffles),
the same net (784-256-256-10, ReLU, batch norm when the recipe has it; initialized from the same seed), batches,
epochs, optimizer and per-step schedule; validation after every epoch; the test set at the end on the weights of the
best validation epoch (trainlab tests its best checkpoint). No Lightning, Hydra or trainlab import: this is the
baseline that `benchmarks/default_run.py` times as a whole process.

    python benchmarks/plain_default.py --cache-file data/cache/mnist-….pt --seed 0
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EPOCH_STRIDE = 1_000_003  # trainlab.data.batches.TensorBatches: pass e shuffles with seed + EPOCH_STRIDE·e


def mlp(batchnorm: bool) -> nn.Sequential:
    """trainlab.models.MLP(hidden=[256, 256]): layers built in the same order, so one seed gives the same weights."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in (256, 256):
        layers += [nn.Linear(width, size, bias=not batchnorm)]
        layers += [nn.BatchNorm1d(size), nn.ReLU()] if batchnorm else [nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 10))


def standardize(images: Tensor) -> tuple[Tensor, Tensor]:
    """(scale, shift) with uint8·scale + shift = (x/255 − mean)/std, mean and std of the training images."""
    counts = torch.bincount(images.flatten(), minlength=256).double()
    values = torch.arange(256, dtype=torch.float64) / 255
    n = counts.sum()
    mean = (counts * values).sum() / n
    std = ((counts * (values - mean) ** 2).sum() / (n - 1)).sqrt()
    return (1 / (255 * std)).float(), (-mean / std).float()


def batches(x: Tensor, y: Tensor, size: int, scale: Tensor, shift: Tensor, order: Tensor | None = None):
    for start in range(0, len(y), size):
        take = slice(start, start + size) if order is None else order[start : start + size]
        yield torch.addcmul(shift, x[take].float(), scale), y[take]  # as TensorBatches does


@torch.no_grad()
def accuracy(net: nn.Module, x: Tensor, y: Tensor, scale: Tensor, shift: Tensor) -> float:
    net.eval()
    correct = sum(int((net(xb).argmax(dim=1) == yb).sum()) for xb, yb in batches(x, y, 1000, scale, shift))
    return correct / len(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-file", required=True, help="trainlab's decoded MNIST tensors (data/cache/mnist-*.pt)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--optimizer", choices=["Adam", "AdamW"], default="AdamW")
    parser.add_argument("--lr", type=float, default=3e-3, help="cosine's start lr, one-cycle's peak lr")
    parser.add_argument("--schedule", choices=["cosine", "onecycle"], default="cosine", help="stepped every batch")
    parser.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--fused", action=argparse.BooleanOptionalAction, default=True, help="torch's fused Adam")
    parser.add_argument("--val-size", type=int, default=5000)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    data = torch.load(args.cache_file, weights_only=True)
    images, labels = data["train_images"], data["train_labels"]
    split = torch.randperm(len(labels), generator=torch.Generator().manual_seed(args.seed))
    val_x, val_y = images[split[: args.val_size]], labels[split[: args.val_size]]
    train_x, train_y = images[split[args.val_size :]], labels[split[args.val_size :]]
    scale, shift = standardize(train_x)

    net = mlp(args.batchnorm)
    optimizer = getattr(torch.optim, args.optimizer)(net.parameters(), lr=args.lr, weight_decay=0.0, fused=args.fused)
    steps = args.epochs * -(-len(train_y) // args.batch_size)
    if args.schedule == "cosine":  # conf/scheduler/cosine.yaml
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=0.0)
    else:  # conf/scheduler/onecycle.yaml
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=args.lr, total_steps=steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
            cycle_momentum=False,
        )  # fmt: skip
    best_acc, best_state = -1.0, None
    start = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(args.seed + EPOCH_STRIDE * epoch))
        for x, y in batches(train_x, train_y, args.batch_size, scale, shift, order):
            loss = F.cross_entropy(net(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        val_acc = accuracy(net, val_x, val_y, scale, shift)
        if val_acc > best_acc:
            best_acc, best_state = val_acc, copy.deepcopy(net.state_dict())
        print(f"epoch {epoch}: val acc {val_acc:.4f}", flush=True)
    fit = time.perf_counter() - start
    net.load_state_dict(best_state)
    test_acc = accuracy(net, data["test_images"], data["test_labels"], scale, shift)
    print(f"fit {fit:.2f} s; test acc {test_acc:.4f}")


if __name__ == "__main__":
    main()
