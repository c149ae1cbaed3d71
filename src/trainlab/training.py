"""One training run: build everything from the composed config, fit, test the best checkpoint, write results."""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from trainlab.callbacks.divergence import NonFiniteLoss, StopOnNonFiniteLoss
from trainlab.callbacks.interrupt import SignalFlag, StopOnSignal, TrainingInterrupted, save_last, signal_guard
from trainlab.classifier import Classifier
from trainlab.config.errors import Diverged
from trainlab.config.run_dirs import LAST_CKPT
from trainlab.data import InMemoryDataModule
from trainlab.init import init_from_config
from trainlab.loggers.redact import redact
from trainlab.loggers.wandb_logger import finish
from trainlab.outputs import plain_metrics, print_config, print_summary, write_metrics
from trainlab.regularization import early_stopping_callback
from trainlab.resume import checkpoint_to_resume

log = logging.getLogger(__name__)


def print_lightning_logs_once() -> None:
    """`import lightning` adds its own console handler; under Hydra the root logger already prints every record
    (and writes it to the run's log file), so without this each Lightning message would show twice."""
    if logging.getLogger().handlers:
        logging.getLogger("lightning").handlers.clear()


def plain(cfg: DictConfig | None) -> Any:
    """A config node as resolved plain Python data (what checkpoints and loggers may hold)."""
    return OmegaConf.to_container(cfg, resolve=True) if cfg is not None else None


def build_model(cfg: DictConfig, datamodule: InMemoryDataModule) -> Classifier:
    return Classifier(
        net=plain(cfg.model),
        in_shape=list(datamodule.shape),
        num_classes=datamodule.num_classes,
        optimizer=plain(cfg.optimizer),
        scheduler=plain(cfg.scheduler),
        regularization=plain(cfg.regularization),
        metrics=plain(cfg.get("metrics")),
    )


def divergence_message(cfg: DictConfig, err: NonFiniteLoss) -> str:
    optimizer = str(cfg.optimizer.get("_target_", "")).rsplit(".", 1)[-1]
    return (
        f"training diverged: {err}. Likely causes: a learning rate too high for {optimizer} "
        f"(optimizer.lr={cfg.optimizer.get('lr')}: try 10× lower), or a bad init (init={cfg.init.get('name')}: "
        "try init=he or init=xavier); trainer.gradient_clip_val=1.0 also helps"
    )


def build_trainer(cfg: DictConfig, stop_flag: SignalFlag | None = None) -> L.Trainer:
    """The Trainer from `cfg.trainer` (1:1 Trainer arguments) plus the callbacks and loggers groups, and
    Lightning's EarlyStopping when `regularization.early_stopping` is set, the callback that stops at the first
    non-finite loss, and with `stop_flag` the one that stops on SIGINT/SIGTERM (saving last.ckpt).

    Every logger gets the whole resolved config, with secrets (API keys, tokens) redacted.
    """
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    early_stopping = early_stopping_callback(plain(cfg.get("regularization")))
    if early_stopping is not None:
        callbacks.append(early_stopping)
    callbacks.append(StopOnNonFiniteLoss())  # acts in fit only
    if stop_flag is not None:
        callbacks.append(StopOnSignal(stop_flag))
    loggers = [instantiate(lg) for lg in (cfg.get("logger") or {}).values() if lg is not None]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    config = redact(plain(cfg))
    for logger in trainer.loggers:
        logger.log_hyperparams(config)
    return trainer


def train(cfg: DictConfig) -> dict[str, Any]:
    """Fit, then test the best checkpoint; return (and write to `metrics.json`) the final metrics."""
    print_lightning_logs_once()
    ckpt_path = checkpoint_to_resume(cfg)  # first: "nothing to resume" is reported before any work
    if cfg.get("print_config"):
        print_config(cfg)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)
    torch.set_float32_matmul_precision(cfg.get("matmul_precision", "highest"))
    datamodule: InMemoryDataModule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    init_from_config(model.net, plain(cfg.init), datamodule)
    with signal_guard() as stop_flag:
        trainer = build_trainer(cfg, stop_flag)
        return fit_and_test(cfg, trainer, model, datamodule, ckpt_path, stop_flag)


def fit_and_test(
    cfg: DictConfig,
    trainer: L.Trainer,
    model: Classifier,
    datamodule: InMemoryDataModule,
    ckpt_path: str | None,
    stop_flag: SignalFlag,
) -> dict[str, Any]:
    """Fit and test; an interruption or a non-finite loss still leaves metrics.json (with its status) behind."""
    path = Path(cfg.paths.output_dir) / "metrics.json"
    exit_code = 1
    start = time.perf_counter()
    try:
        metrics = fit_then_test(cfg, trainer, model, datamodule, ckpt_path, stop_flag, start)
        exit_code = 0
    except (TrainingInterrupted, NonFiniteLoss) as err:
        record_stop(err, trainer, path, time.perf_counter() - start)
        if isinstance(err, NonFiniteLoss):
            raise Diverged(divergence_message(cfg, err)) from err
        raise
    finally:
        finish(trainer.loggers, cfg.paths.output_dir, exit_code)
    if trainer.is_global_zero:
        write_metrics(path, metrics)
        print_summary("trainlab: final metrics", metrics, path)
    return metrics


def fit_then_test(
    cfg: DictConfig,
    trainer: L.Trainer,
    model: Classifier,
    datamodule: InMemoryDataModule,
    ckpt_path: str | None,
    stop_flag: SignalFlag,
    start: float,
) -> dict[str, Any]:
    """The run itself: fit, then test the best checkpoint; the metrics of a completed run."""
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    except SIGTERMException as err:  # Lightning's own stop on SIGTERM (e.g. during validation)
        raise TrainingInterrupted(signal.SIGTERM) from err
    if stop_flag.signum is not None:  # the signal came during the last validation: fit ended anyway
        save_last(trainer)
        raise TrainingInterrupted(stop_flag.signum)
    fit_seconds = time.perf_counter() - start
    metrics = plain_metrics(trainer.callback_metrics)
    checkpoint = trainer.checkpoint_callback
    best = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
    if cfg.get("test", True):
        trainer.test(model, datamodule=datamodule, ckpt_path=best or None, verbose=False)
        metrics.update(plain_metrics(trainer.callback_metrics))
    metrics.update(epochs=trainer.current_epoch, fit_seconds=round(fit_seconds, 3), ckpt_best=best, status="completed")
    return metrics


def record_stop(err: TrainingInterrupted | NonFiniteLoss, trainer: L.Trainer, path: Path, seconds: float) -> None:
    """metrics.json of a run that stopped early: "interrupted" (with where its state was saved) or "diverged"."""
    metrics = plain_metrics(trainer.callback_metrics)
    metrics.update(epochs=trainer.current_epoch, global_step=trainer.global_step, fit_seconds=round(seconds, 3))
    if isinstance(err, TrainingInterrupted):
        last = Path(trainer.default_root_dir) / LAST_CKPT
        err.ckpt = str(last) if last.is_file() else None
        metrics.update(status="interrupted", signal=err.signum, ckpt_last=err.ckpt)
    else:
        metrics.update(status="diverged", diverged_at_step=err.step)
    if trainer.is_global_zero:
        write_metrics(path, metrics)
