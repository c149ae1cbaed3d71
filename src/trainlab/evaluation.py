"""Testing a saved checkpoint on the data it was trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig

from trainlab.classifier import Classifier
from trainlab.config.errors import UserError
from trainlab.data import InMemoryDataModule
from trainlab.loggers.wandb_logger import finish
from trainlab.outputs import plain_metrics, print_summary, write_metrics
from trainlab.training import build_trainer, print_lightning_logs_once

# Data settings that belong to the machine, not to the experiment: taken from the eval config, not the checkpoint.
MACHINE_KEYS = ("data_dir", "cache_dir", "mirrors")


def evaluate(cfg: DictConfig, checkpoint: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the model and the data split from `checkpoint`, test it, write `metrics.json`."""
    print_lightning_logs_once()
    data_settings = {
        k: v for k, v in checkpoint.get("datamodule_hyper_parameters", {}).items() if k not in MACHINE_KEYS
    }
    datamodule: InMemoryDataModule = instantiate(cfg.data, **data_settings)
    model = Classifier(**checkpoint["hyper_parameters"])
    if list(datamodule.shape) != list(model.hparams.in_shape):
        raise UserError(
            f"the checkpoint was trained on inputs of shape {model.hparams.in_shape}, but data={cfg.data._target_} "
            f"gives {list(datamodule.shape)}; choose the matching data=… option"
        )
    model.load_state_dict(checkpoint["state_dict"])
    trainer = build_trainer(cfg)
    exit_code = 1
    try:
        trainer.test(model, datamodule=datamodule, verbose=False)
        exit_code = 0
    finally:
        finish(trainer.loggers, cfg.paths.output_dir, exit_code)
    metrics = plain_metrics(trainer.callback_metrics)
    metrics.update(ckpt_path=str(cfg.ckpt_path))
    path = Path(cfg.paths.output_dir) / "metrics.json"
    if trainer.is_global_zero:
        write_metrics(path, metrics)
        print_summary("trainlab: test metrics", metrics, path)
    return metrics
