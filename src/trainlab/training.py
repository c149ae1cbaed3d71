"""One training run: build everything from the composed config, fit, test the best checkpoint, write results."""

from __future__ import annotations

import json
import logging
import signal
import time
import warnings
from dataclasses import dataclass
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
from trainlab.callbacks.lean import skip_unused_batch_hooks
from trainlab.callbacks.loader_state import RestoreLoaderPosition
from trainlab.callbacks.progress import console_flags
from trainlab.checkpoints import check_same_net
from trainlab.classifier import Classifier
from trainlab.config.errors import Diverged
from trainlab.config.run_dirs import LAST_CKPT
from trainlab.console import quiet_known_noise
from trainlab.data import InMemoryDataModule
from trainlab.diagnostics import plots
from trainlab.diagnostics.build import diagnostics_callbacks
from trainlab.diagnostics.results import diagnostics_results
from trainlab.evaluation_report import PerClassReport, per_class_results
from trainlab.hook_costs import NoProfiler
from trainlab.init import init_from_config
from trainlab.loggers.csv_logger import rewind_csv_loggers
from trainlab.loggers.redact import redact
from trainlab.loggers.wandb_logger import finish
from trainlab.outputs import parameter_counts, plain_metrics, print_config, print_summary, write_metrics
from trainlab.regularization import early_stopping_callback
from trainlab.resume import AlreadyCompleted, check_completed, checkpoint_to_resume, resumed_config, trained
from trainlab.sweeps.threads import set_threads
from trainlab.sweeps.trial import trial_callbacks
from trainlab.tasks import task_arguments
from trainlab.tuning import tune

log = logging.getLogger(__name__)


def print_lightning_logs_once() -> None:
    """`import lightning` adds its own console handler; under Hydra the root logger already prints every record
    (and writes it to the run's log file), so without this each Lightning message would show twice. Lightning's
    ads and the known-harmless warnings are filtered out too."""
    if logging.getLogger().handlers:
        logging.getLogger("lightning").handlers.clear()
    quiet_known_noise()


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
        **task_arguments(cfg, datamodule),  # the task, and a regression's target statistics
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
    callbacks += diagnostics_callbacks(plain(cfg.get("diagnostics")))  # the diagnostics group's, not callbacks'
    early_stopping = early_stopping_callback(plain(cfg.get("regularization")))
    if early_stopping is not None:
        callbacks.append(early_stopping)
    callbacks.append(StopOnNonFiniteLoss())  # acts in fit only
    if stop_flag is not None:
        callbacks.append(StopOnSignal(stop_flag))
    callbacks.append(RestoreLoaderPosition())  # a run resumed mid-epoch goes on with the very next batch
    callbacks.append(PerClassReport())  # test: per-class accuracy, macro F1, confusion matrix (confusion.png)
    callbacks += trial_callbacks(cfg)  # in an Optuna sweep's job: report to its trial, stop when pruned
    callbacks = [skip_unused_batch_hooks(c) for c in callbacks]  # Lightning's own too (callbacks/lean.py)
    loggers = [instantiate(lg) for lg in (cfg.get("logger") or {}).values() if lg is not None]
    flags = console_flags(callbacks, cfg.trainer)  # the callbacks group's summary and bar, not Lightning's defaults
    if cfg.trainer.get("profiler") is None:
        flags["profiler"] = NoProfiler()  # Lightning's pass-through profiler, cheaper per hook (hook_costs.py)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False, **flags)
    config = redact(plain(cfg))
    for logger in trainer.loggers:
        logger.log_hyperparams(config)
    return trainer


def train(cfg: DictConfig) -> dict[str, Any]:
    """Fit, then test the best checkpoint; return (and write to `metrics.json`) the final metrics."""
    print_lightning_logs_once()
    cfg = resumed_config(cfg)  # a run resumed in place continues with its own saved config
    ckpt_path = checkpoint_to_resume(cfg)  # first: "nothing to resume" is reported before any work
    try:
        check_completed(cfg, ckpt_path)
    except AlreadyCompleted as done:  # (the entry point says so before Hydra runs; this is for other callers)
        print(done)
        return earlier_metrics(Path(ckpt_path).parents[1] / "metrics.json", keep=None) if ckpt_path else {}
    if ckpt_path:  # Lightning's warning is for a fresh run writing into another's folder; resuming, it is expected
        warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
    if cfg.get("print_config"):
        print_config(cfg)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)
    torch.set_float32_matmul_precision(cfg.get("matmul_precision", "highest"))
    set_threads(cfg)  # `threads`: cores ÷ parallel jobs by default, so parallel jobs never oversubscribe
    datamodule: InMemoryDataModule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    if ckpt_path:  # another net's checkpoint: one line here, not a load_state_dict traceback inside fit
        check_same_net(ckpt_path, model.hparams.net, model.hparams.in_shape, model.hparams.num_classes)
    init_from_config(model.net, plain(cfg.init), datamodule)
    if cfg.get("tune") and not tune(cfg, model, datamodule):  # tune=lr_find|batch_size: print the suggestion, stop
        return {}
    with signal_guard() as stop_flag:
        trainer = build_trainer(cfg, stop_flag)
        return fit_and_test(Run(cfg, trainer, model, datamodule, ckpt_path, stop_flag))


@dataclass
class Run:
    """What one training run is made of: built by `train`, used by fit and test."""

    cfg: DictConfig
    trainer: L.Trainer
    model: Classifier
    datamodule: InMemoryDataModule
    ckpt_path: str | None  # the checkpoint fit starts from (None: a fresh run)
    stop_flag: SignalFlag


def fit_and_test(run: Run) -> dict[str, Any]:
    """Fit and test; an interruption or a non-finite loss still leaves metrics.json (with its status) behind.

    A resumed run first drops the CSV rows logged after its checkpoint (an earlier session may have gone past it),
    and its metrics.json keeps the metrics of earlier sessions that this one does not log again.
    """
    cfg, trainer, ckpt_path = run.cfg, run.trainer, run.ckpt_path
    path = Path(cfg.paths.output_dir) / "metrics.json"
    earlier = earlier_metrics(path) if ckpt_path else {}
    if ckpt_path:
        rewind_csv_loggers(trainer.loggers, trained(ckpt_path)[1])
    exit_code = 1
    start = time.perf_counter()
    try:
        metrics = {**earlier, **fit_then_test(run, start, earlier)}
        exit_code = 0
    except (TrainingInterrupted, NonFiniteLoss) as err:
        record_stop(err, trainer, path, time.perf_counter() - start, earlier)
        if isinstance(err, NonFiniteLoss):
            raise Diverged(divergence_message(cfg, err)) from err
        raise
    finally:
        plots.wait()  # the PNGs drawn in the background: written before the loggers read them, or anyone else
        finish(trainer.loggers, cfg.paths.output_dir, exit_code)
    if trainer.is_global_zero:
        write_metrics(path, metrics)
        print_summary("trainlab: final metrics", metrics, path)
    return metrics


def fit_then_test(run: Run, start: float, known: dict[str, Any]) -> dict[str, Any]:
    """The run itself: fit, then test the best checkpoint; the metrics of a completed run. The fit's metrics are
    also added to `known`, which metrics.json keeps should the test be interrupted."""
    cfg, trainer, model, datamodule, stop_flag = run.cfg, run.trainer, run.model, run.datamodule, run.stop_flag
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=run.ckpt_path)
    except SIGTERMException as err:  # Lightning's own stop on SIGTERM (e.g. during validation)
        raise TrainingInterrupted(signal.SIGTERM) from err
    if stop_flag.signum is not None:  # the signal came during the last validation: fit ended anyway
        save_last(trainer)
        raise TrainingInterrupted(stop_flag.signum)
    fit_seconds = time.perf_counter() - start
    metrics = plain_metrics(trainer.callback_metrics)
    known.update(metrics)
    checkpoint = trainer.checkpoint_callback
    best = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
    if cfg.get("test", True):
        run_test(trainer, model, datamodule, best or None, stop_flag)
        metrics.update(plain_metrics(trainer.callback_metrics))
        metrics.update(per_class_results(trainer))
    metrics.update(epochs=trainer.current_epoch, fit_seconds=round(fit_seconds, 3), ckpt_best=best, status="completed")
    metrics.update(parameter_counts(model.net))
    metrics.update(tags=list(cfg.get("tags") or []))
    metrics.update(diagnostics_results(trainer))  # history and the bias/variance verdict
    return metrics


def run_test(
    trainer: L.Trainer, model: Classifier, datamodule: InMemoryDataModule, ckpt: str | None, stop_flag: SignalFlag
) -> None:
    """Test `ckpt`; SIGINT/SIGTERM during the test stops it (StopOnSignal) as an interruption of a trained run."""
    try:
        trainer.test(model, datamodule=datamodule, ckpt_path=ckpt, verbose=False)
    except SIGTERMException as err:
        raise TrainingInterrupted(signal.SIGTERM) from err
    if stop_flag.signum is not None:  # the signal came after the last test batch
        raise TrainingInterrupted(stop_flag.signum)


def earlier_metrics(path: Path, keep: str | None = "/") -> dict[str, Any]:
    """The metrics in an existing metrics.json (with `keep`, only keys containing it: train/…, val/…, test/…)."""
    try:
        metrics = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in metrics.items() if keep is None or keep in k}


def record_stop(
    err: TrainingInterrupted | NonFiniteLoss,
    trainer: L.Trainer,
    path: Path,
    seconds: float,
    earlier: dict[str, Any] | None = None,
) -> None:
    """metrics.json of a run that stopped early: "interrupted" (with where its state was saved) or "diverged"."""
    metrics = {**(earlier or {}), **plain_metrics(trainer.callback_metrics)}
    metrics.update(epochs=trainer.current_epoch, global_step=trainer.global_step, fit_seconds=round(seconds, 3))
    if isinstance(err, TrainingInterrupted):
        last = Path(trainer.default_root_dir) / LAST_CKPT
        err.ckpt = str(last) if last.is_file() else None
        stage = trainer.state.fn.value if trainer.state.fn is not None else "fit"
        metrics.update(status="interrupted", interrupted_during=stage, signal=err.signum, ckpt_last=err.ckpt)
    else:
        metrics.update(status="diverged", diverged_at_step=err.step)
    if trainer.is_global_zero:
        write_metrics(path, metrics)
