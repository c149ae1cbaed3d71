"""Time a trainlab training epoch against a plain PyTorch loop over the same in-memory MNIST tensors.

Both sides train the same net (784-256-256-10, ReLU) with Adam (lr 1e-3, fused as conf/optimizer/adam.yaml says) on
batches of 128 drawn from one `TensorBatches` iterator, in this one process, alternating side by side so machine
noise hits both alike.
trainlab runs as `python src/train.py scheduler=none optimizer=adam regularization=none data.batch_size=128`
would (default callbacks, CSV logger, progress bar); its epoch time is measured from the first to the last
training batch, so validation is not counted.

    TRAINLAB_DATA_DIR=../shared/data python benchmarks/mnist_mlp.py --epochs 5

`--lightning` adds a third side, the plain loop's step under a bare `L.Trainer`: what Lightning's own loop costs,
apart from trainlab's callbacks, logger and metrics.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import platform
import pstats
import statistics
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from lightning.pytorch.callbacks import Callback

from trainlab.console import quiet_known_noise
from trainlab.diagnostics import plots
from trainlab.training import build_model, build_trainer

CONF = Path(__file__).resolve().parents[1] / "conf"


class EpochTimer(Callback):
    """Wall time from an epoch's start to the end of its last training batch."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        self.last = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.times.append(self.last - self.start)


def compose_config(run_dir: str, overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        # Pinned to this benchmark's own recipe (its rows predate the 3-epoch default recipe): Adam 1e-3, batch 128.
        pinned = ["scheduler=none", "optimizer=adam", "regularization=none", "data.batch_size=128"]
        cfg = compose("train", overrides=[*pinned, *overrides], return_hydra_config=True)
    cfg.paths.output_dir = run_dir
    cfg.paths.root_dir = str(CONF.parent)
    cfg.paths.cache_dir = str(Path(tempfile.gettempdir()) / "trainlab-bench-cache")  # nothing into the repo tree
    del cfg.hydra
    return cfg


def trainlab_epochs(cfg, epochs: int) -> list[float]:
    from hydra.utils import instantiate

    L.seed_everything(0, verbose=False)
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    cfg.trainer.max_epochs = epochs
    trainer = build_trainer(cfg)
    timer = EpochTimer()
    trainer.callbacks.append(timer)
    trainer.fit(model, datamodule=datamodule)
    plots.wait()  # the PNGs of this fit are written before the temporary run dir goes
    return timer.times


def plain_epochs(cfg, epochs: int) -> list[float]:
    from hydra.utils import instantiate

    L.seed_everything(0, verbose=False)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    net = build_model(cfg, datamodule).net
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.optimizer.lr, fused=bool(cfg.optimizer.get("fused")))
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        for x, y in datamodule.train_dataloader():
            loss = F.cross_entropy(net(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times


class BareModule(L.LightningModule):
    """The plain loop's step as a LightningModule and nothing more: what Lightning's own loop costs."""

    def __init__(self, net: torch.nn.Module, lr: float, fused: bool) -> None:
        super().__init__()
        self.net, self.lr, self.fused = net, lr, fused

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.lr, fused=self.fused)


def lightning_epochs(cfg, epochs: int) -> list[float]:
    """`--lightning`: the same net, batches and Adam under a bare `L.Trainer` (no callbacks of trainlab's, no
    logger, checkpoint, progress bar or validation)."""
    from hydra.utils import instantiate

    L.seed_everything(0, verbose=False)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    module = BareModule(build_model(cfg, datamodule).net, cfg.optimizer.lr, bool(cfg.optimizer.get("fused")))
    timer = EpochTimer()
    trainer = L.Trainer(
        max_epochs=epochs, callbacks=[timer], logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0, default_root_dir=cfg.paths.output_dir,
    )  # fmt: skip
    trainer.fit(module, train_dataloaders=datamodule.train_dataloader())
    return timer.times


def profile_step(cfg, run, label: str, top: int) -> None:
    """Python function calls per training step (deterministic, unlike wall time) and where the time goes."""

    def profiled(epochs: int) -> pstats.Stats:
        profiler = cProfile.Profile()
        profiler.enable()
        run(cfg, epochs)
        profiler.disable()
        return pstats.Stats(profiler)

    steps = -(-(60000 - cfg.data.val_size) // cfg.data.batch_size)  # batches per epoch
    one, two = profiled(1), profiled(2)
    print(f"{label}: {(two.total_calls - one.total_calls) / steps:.0f} Python calls per training step")
    print(f"{label}: top {top} by own time over a 2-epoch run")
    two.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of plain and trainlab runs")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also profile both sides: top N functions")
    parser.add_argument("--lightning", action="store_true", help="a third side: the plain step under a bare Trainer")
    parser.add_argument("overrides", nargs="*", help="trainlab config overrides, e.g. trainer/accelerator=gpu")
    args = parser.parse_args()
    for name in ("lightning", "lightning.pytorch"):  # Lightning's hardware lines on every Trainer
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet_known_noise()  # Lightning's ads and known-harmless warnings, filtered as `python src/train.py` does
    with tempfile.TemporaryDirectory() as run_dir:
        cfg = compose_config(run_dir, args.overrides)
        sides = {"plain": plain_epochs, "trainlab": trainlab_epochs}
        if args.lightning:
            sides["lightning"] = lightning_epochs
        epochs: dict[str, list[float]] = {side: [] for side in sides}
        paired: dict[str, list[float]] = {side: [] for side in sides if side != "plain"}
        for _ in range(args.rounds):
            for side, run in sides.items():
                epochs[side] += run(cfg, args.epochs)
            plain_round = statistics.median(epochs["plain"][-args.epochs :])
            for side in paired:  # each round's ratio of medians
                paired[side].append(statistics.median(epochs[side][-args.epochs :]) / plain_round)
        if args.profile:
            for side, run in sides.items():
                profile_step(cfg, run, side, args.profile)
    p = statistics.median(epochs["plain"])
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}")
    for side, times in epochs.items():
        print(f"{side + ' epochs (s):':21s}{' '.join(f'{x:.3f}' for x in times)}")
    for side, ratios in paired.items():
        t = statistics.median(epochs[side])
        print(f"median epoch: plain {p:.3f} s, {side} {t:.3f} s, ratio {t / p:.3f}")
        # A slow spell of the machine longer than a round cancels out of a round's own ratio.
        print(f"  round by round: median {statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f})")


if __name__ == "__main__":
    main()
