"""`tune=lr_find` and `tune=batch_size`: Lightning's learning-rate finder and batch-size scaler on the composed
model and data, before (or instead of) training.

Each prints the override it suggests on one line (`optimizer.lr=…`, `data.batch_size=…`) and writes it to the run
dir's `metrics.json` (the LR finder also its loss-vs-lr curve, `lr_find.png`); then the run stops, or with
`tune.apply=true` trains with the suggested value. The search runs on a Trainer of its own (the run's `trainer`
settings, no callbacks, loggers or checkpoints): its diverging steps at large learning rates are the point of the
search, not a failed run. Lightning restores the net's initial weights after each search.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.tuner import Tuner
from omegaconf import DictConfig, open_dict

from trainlab.classifier import Classifier
from trainlab.config.errors import UserError
from trainlab.data import InMemoryDataModule
from trainlab.outputs import write_metrics

log = logging.getLogger(__name__)

LR_FIND_PNG = "lr_find.png"


def search_trainer(cfg: DictConfig, steps: int) -> L.Trainer:
    """A Trainer with the run's settings for the search alone: no callbacks, loggers, checkpoints, bars or
    validation; no epoch limit: the search counts its `steps` (a short epoch, e.g. trainer.limit_train_batches,
    starts again)."""
    return instantiate(
        cfg.trainer,
        max_epochs=-1,
        max_steps=steps,
        max_time=None,
        check_val_every_n_epoch=2**31
        - 1,  # the search looks at training losses only (lr_find resets limit_val_batches)
        callbacks=[],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )


def find_lr(cfg: DictConfig, model: Classifier, datamodule: InMemoryDataModule) -> float:
    """Lightning's LR finder: the lr at the steepest loss decrease of an exponential sweep; plots the sweep."""
    tune = cfg.tune
    finder = Tuner(search_trainer(cfg, tune.num_training)).lr_find(
        model,
        datamodule=datamodule,
        min_lr=tune.min_lr,
        max_lr=tune.max_lr,
        num_training=tune.num_training,
        update_attr=False,
    )
    suggestion = finder.suggestion() if finder is not None else None
    if suggestion is None:
        raise UserError(
            f"tune=lr_find: no suggestion from {tune.num_training} steps (the loss curve was too short or flat); "
            "raise tune.num_training or widen tune.min_lr..tune.max_lr"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = finder.plot(suggest=True)
    figure.axes[0].set_title(f"LR finder: suggested optimizer.lr={suggestion:.3g}")
    path = Path(cfg.paths.output_dir) / LR_FIND_PNG
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return float(suggestion)


def find_batch_size(cfg: DictConfig, model: Classifier, datamodule: InMemoryDataModule) -> int:
    """Lightning's batch-size scaler: double the batch until memory runs out (or `max_val`, or the training set's
    size), then keep the largest that fit. It sets `datamodule.batch_size`, which each new train loader reads."""
    tune = cfg.tune
    size = Tuner(search_trainer(cfg, tune.steps_per_trial)).scale_batch_size(
        model,
        datamodule=datamodule,
        mode=tune.scale_mode,
        steps_per_trial=tune.steps_per_trial,
        init_val=tune.init_val,
        max_trials=tune.max_trials,
        max_val=tune.max_val,
        batch_arg_name="batch_size",
    )
    if size is None:
        raise UserError("tune=batch_size: Lightning skipped the search (trainer.fast_dev_run is on); turn it off")
    return int(size)


@contextmanager
def schedule_off(model: Classifier) -> Iterator[None]:
    """The searches take a few optimizer steps per trial: the run's lr schedule, sized for the whole run, has no
    part in them (a one-cycle schedule sized for a trial's step would fail at the next trial; the LR finder replaces
    the schedule anyway). Training afterwards builds it again, for the whole run."""
    scheduler = model.hparams.scheduler
    model.hparams.scheduler = None
    try:
        yield
    finally:
        model.hparams.scheduler = scheduler


def tune(cfg: DictConfig, model: Classifier, datamodule: InMemoryDataModule) -> bool:
    """Run the search `cfg.tune` asks for and print its override; True when training should go on with it."""
    mode = cfg.tune.mode
    if mode == "lr_find":
        with schedule_off(model):
            value: Any = find_lr(cfg, model, datamodule)
        key, shown = "optimizer.lr", f"{value:.3g}"
        model.hparams.optimizer["lr"] = value  # what configure_optimizers reads (and the checkpoint records)
    elif mode == "batch_size":
        with schedule_off(model):
            value = find_batch_size(cfg, model, datamodule)
        key, shown = "data.batch_size", str(value)
        datamodule.batch_size = datamodule.hparams["batch_size"] = value  # the loader and the checkpoint
    else:  # validated before torch loads; a config of one's own may still name another
        raise UserError(f"tune.mode={mode} is not a search trainlab runs: use tune=lr_find or tune=batch_size")
    section, _, leaf = key.partition(".")
    with open_dict(cfg):
        cfg[section][leaf] = value  # the loggers and .hydra record the value the run trains with
    apply = bool(cfg.tune.get("apply", False))
    then = "training with it" if apply else f"train with: python src/train.py {key}={shown}"
    print(f"tune={mode}: suggested {key}={shown} ({then})", flush=True)
    if not apply:
        path = Path(cfg.paths.output_dir) / "metrics.json"
        write_metrics(path, {f"tune/{key}": value, "status": "tuned"})
    return apply
