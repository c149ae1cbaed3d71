"""Test-only callbacks, given to runs with `+callbacks.<name>._target_=helpers.probes.<Class>` (in-process, or in a
subprocess started by `helpers.runner`, which puts `tests/` on PYTHONPATH)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch


class SlowSteps(L.Callback):
    """Sleep after each training batch, so that a signal sent from outside lands in the middle of an epoch."""

    def __init__(self, seconds: float = 0.01) -> None:
        self.seconds = seconds

    def on_train_batch_end(self, *args: Any) -> None:
        time.sleep(self.seconds)


class RecordSamples(L.Callback):
    """Write, per rank, the training sample indices of each batch (as the batcher drew them) and the labels the
    batch really held, to `<out_dir>/samples_rank<r>.json` at the end of fit."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)
        self.indices: list[int] = []
        self.labels: list[int] = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, *args: Any) -> None:
        self.labels += batch[1].tolist()
        self.indices += trainer.train_dataloader.last_batch_indices.tolist()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        train_labels = trainer.datamodule.splits["train"][1]
        record = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "pid": os.getpid(),
            "indices": self.indices,
            "labels": self.labels,
            "labels_at_indices": train_labels[torch.tensor(self.indices, dtype=torch.long)].tolist(),
            "train_size": len(train_labels),
        }
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / f"samples_rank{trainer.global_rank}.json").write_text(json.dumps(record))


class RecordDevices(L.Callback):
    """Write to `<out_dir>/devices.json`, at the end of fit, where the training batches and the data module's
    training split lived, and the dtypes of the net's outputs (mixed precision runs the forward pass in the
    lower one)."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)
        self.seen: dict[str, set[str]] = {"batch": set(), "split": set(), "logits": set()}

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pl_module.net.register_forward_hook(lambda _m, _i, out: self.seen["logits"].add(str(out.dtype)))

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, *args: Any) -> None:
        self.seen["batch"] |= {str(t.device) for t in batch}
        self.seen["split"] |= {str(t.device) for t in trainer.datamodule.splits["train"]}

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        record = {key: sorted(values) for key, values in self.seen.items()}
        (self.out_dir / "devices.json").write_text(json.dumps(record))


class SignalAtStep(L.Callback):
    """Send this process `signum` (default SIGINT) right after optimizer step `step`, or after test batch
    `test_batch` of the test that follows fit: an interruption at an exactly known point."""

    def __init__(self, step: int | None = None, test_batch: int | None = None, signum: int = signal.SIGINT) -> None:
        self.step, self.test_batch, self.signum = step, test_batch, signum

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)

    def on_test_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int, *args: Any
    ) -> None:
        if batch_idx == self.test_batch:
            os.kill(os.getpid(), self.signum)


class RecordThreads(L.Callback):
    """Write `<out_dir>/threads.json` at the start of fit: this process's id and its torch thread count."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        record = {"pid": os.getpid(), "threads": torch.get_num_threads()}
        (self.out_dir / "threads.json").write_text(json.dumps(record))
