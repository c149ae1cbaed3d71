"""One training run: build everything from the composed config, fit, test the best checkpoint, write results."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from trainlab.classifier import Classifier
from trainlab.data import InMemoryDataModule
from trainlab.init import initialize
from trainlab.outputs import plain_metrics, print_config, print_summary, write_metrics
from trainlab.redact import redact
from trainlab.resume import checkpoint_to_resume
from trainlab.tracking import finish

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
    )


def build_trainer(cfg: DictConfig) -> L.Trainer:
    """The Trainer from `cfg.trainer` (1:1 Trainer arguments) plus the callbacks and loggers groups, and
    Lightning's EarlyStopping when `regularization.early_stopping` is set.

    Every logger gets the whole resolved config, with secrets (API keys, tokens) redacted.
    """
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    early_stopping = (cfg.get("regularization") or {}).get("early_stopping")
    if early_stopping:
        callbacks.append(EarlyStopping(**plain(early_stopping)))
    loggers = [instantiate(lg) for lg in (cfg.get("logger") or {}).values() if lg is not None]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    config = redact(plain(cfg))
    for logger in trainer.loggers:
        logger.log_hyperparams(config)
    return trainer


def init_batch(datamodule: InMemoryDataModule, size: int) -> torch.Tensor:
    """One batch of training inputs, drawn once before training (for data-dependent inits such as LSUV)."""
    datamodule.setup("fit")
    images, _ = datamodule.splits["train"]
    take = torch.randperm(len(images))[:size]
    return torch.addcmul(datamodule.shift.view(1, -1, 1, 1), images[take].float(), datamodule.scale.view(1, -1, 1, 1))


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
    init = plain(cfg.init)
    if init["name"] == "lsuv":
        init["batch"] = init_batch(datamodule, init.pop("batch_size", 512))
    initialize(model.net, **init)
    trainer = build_trainer(cfg)
    exit_code = 1
    try:
        start = time.perf_counter()
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
        fit_seconds = time.perf_counter() - start
        metrics = plain_metrics(trainer.callback_metrics)

        checkpoint = trainer.checkpoint_callback
        best = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
        if cfg.get("test", True):
            trainer.test(model, datamodule=datamodule, ckpt_path=best or None, verbose=False)
            metrics.update(plain_metrics(trainer.callback_metrics))
        exit_code = 0
    finally:
        finish(trainer.loggers, cfg.paths.output_dir, exit_code)
    metrics.update(epochs=trainer.current_epoch, fit_seconds=round(fit_seconds, 3), ckpt_best=best, status="completed")

    path = Path(cfg.paths.output_dir) / "metrics.json"
    if trainer.is_global_zero:
        write_metrics(path, metrics)
        print_summary("trainlab: final metrics", metrics, path)
    return metrics
