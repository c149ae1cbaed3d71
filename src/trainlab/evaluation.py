"""Testing a saved checkpoint on the data it was trained on (the checkpoint records its data module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig

from trainlab.classifier import Classifier
from trainlab.config.errors import UserError
from trainlab.data import InMemoryDataModule
from trainlab.evaluation_report import per_class_results
from trainlab.loggers.wandb_logger import finish
from trainlab.outputs import plain_metrics, print_summary, write_metrics
from trainlab.training import build_trainer, print_lightning_logs_once

# Data settings that belong to the machine, not to the experiment: taken from the eval config, not the checkpoint.
MACHINE_KEYS = ("data_dir", "cache_dir", "mirrors", "eval_batch_size")


def recorded_datamodule(cfg: DictConfig, checkpoint: dict[str, Any]) -> InMemoryDataModule:
    """The data module the checkpoint was trained with (its class, split and scaling), on this machine's files."""
    recorded = dict(checkpoint.get("datamodule_hyper_parameters") or {})
    if "_target_" not in recorded:
        raise UserError(
            f"ckpt_path={cfg.ckpt_path}: the checkpoint does not record its data module (saved by an older "
            "trainlab); retrain it to test it with src/eval.py"
        )
    machine = {k: cfg.data[k] for k in MACHINE_KEYS if k in (cfg.get("data") or {})}
    return instantiate({**recorded, **machine})


def evaluate(cfg: DictConfig, checkpoint: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the model and its data module from `checkpoint`, test it, write `metrics.json`."""
    print_lightning_logs_once()
    datamodule = recorded_datamodule(cfg, checkpoint)
    model = Classifier(**checkpoint["hyper_parameters"])
    model.load_state_dict(checkpoint["state_dict"])
    trainer = build_trainer(cfg)
    exit_code = 1
    try:
        trainer.test(model, datamodule=datamodule, verbose=False)
        exit_code = 0
    finally:
        finish(trainer.loggers, cfg.paths.output_dir, exit_code)
    metrics = plain_metrics(trainer.callback_metrics)
    metrics.update(per_class_results(trainer))
    metrics.update(ckpt_path=str(cfg.ckpt_path))
    path = Path(cfg.paths.output_dir) / "metrics.json"
    if trainer.is_global_zero:
        write_metrics(path, metrics)
        print_summary("trainlab: test metrics", metrics, path)
    return metrics
