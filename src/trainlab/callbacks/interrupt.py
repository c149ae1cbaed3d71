"""Stopping a run safely: SIGINT/SIGTERM save `last.ckpt`; a non-finite loss stops training with its step.

Interruption. `signal_guard()` (around fit and test in `train()`) turns SIGINT and SIGTERM into a flag instead of
an exception raised wherever Python happens to be; the `StopOnSignal` callback checks the flag at the end of each
training batch (a safe point: the optimizer step is done) and raises `TrainingInterrupted`. Lightning then calls
`on_exception`, where the callback saves `<run dir>/checkpoints/last.ckpt` of the current (mid-epoch) state, and
finalizes the loggers. `train()` writes `metrics.json` with `"status": "interrupted"` and the entry point exits
with 128 + the signal number (130 for SIGINT, 143 for SIGTERM). A second Ctrl-C stops at once. A signal while the
trained model is being tested stops the test at the end of the batch the same way (`"interrupted_during":
"test"`; training had completed, its checkpoints are saved).

Under DDP every rank must stop at the same batch (the checkpoint is saved collectively), so the flag is combined
across ranks each batch; Lightning forwards SIGTERM from rank zero to the other processes itself.

This module imports lightning: only `train()` uses it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L

from trainlab.callbacks.lean import LeanCallback
from trainlab.config.errors import TrainingInterrupted
from trainlab.config.run_dirs import LAST_CKPT

__all__ = ["SignalFlag", "StopOnSignal", "TrainingInterrupted", "save_last", "signal_guard"]

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalFlag:
    """The first SIGINT or SIGTERM received while the guard is active (None: none yet)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, without waiting for the end of the batch
        if self.signum is None:
            self.signum = signum
            log.warning("received %s: stopping after this batch and saving last.ckpt", signal.Signals(signum).name)


@contextlib.contextmanager
def signal_guard() -> Iterator[SignalFlag]:
    """Record SIGINT/SIGTERM in a flag while the block runs; the previous handlers come back afterwards."""
    flag = SignalFlag()
    if threading.current_thread() is not threading.main_thread():  # signal handlers only work in the main thread
        yield flag
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, flag.handle)
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def is_interruption(exception: BaseException) -> bool:
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    return isinstance(exception, TrainingInterrupted | SIGTERMException | KeyboardInterrupt)


def save_last(trainer: L.Trainer) -> Path:
    """Save the trainer's current state to `<run dir>/checkpoints/last.ckpt` (collective under DDP)."""
    path = Path(trainer.default_root_dir) / LAST_CKPT
    trainer.save_checkpoint(path, weights_only=False)  # the whole state, said outright (else Lightning says so)
    return path


class StopOnSignal(LeanCallback):
    """Stop training at the end of the batch during which SIGINT/SIGTERM arrived, saving last.ckpt first."""

    def __init__(self, flag: SignalFlag) -> None:
        self.flag = flag
        self.saved: Path | None = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self.stop_if_signalled(trainer)

    def on_test_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self.stop_if_signalled(trainer)

    def stop_if_signalled(self, trainer: L.Trainer) -> None:
        stop = self.flag.signum is not None
        if trainer.world_size > 1:  # all ranks stop at the same batch, or the collective save would hang
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop:
            raise TrainingInterrupted(self.flag.signum or signal.SIGTERM)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        from lightning.pytorch.trainer.states import TrainerFn

        if not is_interruption(exception) or trainer.state.fn != TrainerFn.FITTING or self.saved is not None:
            return
        if isinstance(exception, KeyboardInterrupt) and trainer.world_size > 1:
            return  # a forced stop reaches the ranks at different batches: a collective save could hang
        self.saved = save_last(trainer)
        log.warning("saved the current state to %s", self.saved)
