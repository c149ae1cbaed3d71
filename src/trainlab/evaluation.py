"""Testing a saved checkpoint on the data it was trained on (the checkpoint records its data module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict

from trainlab.checkpoints import load_checkpoint
from trainlab.classifier import Classifier
from trainlab.config.errors import UserError
from trainlab.data import InMemoryDataModule
from trainlab.diagnostics import plots
from trainlab.ensemble import (
    Member,
    TestProbabilities,
    check_compatible,
    checkpoint_paths,
    load_member,
    mean_probabilities,
    required,
)
from trainlab.evaluation_report import (
    CONFUSION_PNG,
    PerClassReport,
    class_names,
    per_class_metrics,
    per_class_results,
    plot_confusion,
    report,
)
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


def evaluate_checkpoints(cfg: DictConfig) -> dict[str, Any]:
    """`src/eval.py`: test the checkpoint `cfg.ckpt_path` names, or the ensemble of several (a list, a sweep dir)."""
    paths = checkpoint_paths(required(cfg, "ckpt_path"))
    if len(paths) == 1:
        return evaluate(cfg, load_checkpoint(str(paths[0])), str(paths[0]))
    return evaluate_ensemble(cfg, [load_member(cfg, path) for path in paths])


def evaluate(cfg: DictConfig, checkpoint: dict[str, Any], ckpt_path: str | None = None) -> dict[str, Any]:
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
        plots.wait()  # confusion.png, drawn in the background: written before the loggers read it
        finish(trainer.loggers, cfg.paths.output_dir, exit_code)
    metrics = plain_metrics(trainer.callback_metrics)
    metrics.update(per_class_results(trainer))
    metrics.update(ckpt_path=ckpt_path or str(cfg.ckpt_path))
    path = Path(cfg.paths.output_dir) / "metrics.json"
    if trainer.is_global_zero:
        write_metrics(path, metrics)
        print_summary("trainlab: test metrics", metrics, path)
    return metrics


def evaluate_ensemble(cfg: DictConfig, members: list[Member]) -> dict[str, Any]:
    """Test each member on its own data module (its own input scaling), then the mean of their probabilities:
    `members/<i>/test/*` and `ensemble/test/*` (accuracy, loss, per-class results, confusion.png)."""
    print_lightning_logs_once()
    check_compatible(members)
    member_cfg = cfg.copy()
    with open_dict(member_cfg):
        member_cfg.logger = {}  # the members' passes are steps of this one evaluation: metrics.json has them all
    metrics: dict[str, Any] = {}
    probabilities, targets = [], None
    for i, member in enumerate(members):
        trainer = build_trainer(member_cfg)
        if trainer.world_size > 1:
            raise UserError("ensembles are evaluated in one process: use trainer.devices=1")
        collector = TestProbabilities()
        trainer.callbacks.append(collector)
        for callback in trainer.callbacks:
            if isinstance(callback, PerClassReport):
                callback.enabled = False  # the ensemble's own report follows
        trainer.test(member.model, datamodule=member.datamodule, verbose=False)
        member_probabilities, member_targets = collector.result()
        if targets is not None and not torch.equal(member_targets, targets):
            raise UserError(
                f"ckpt_path: {member.path} was tested on other samples than {members[0].path}; "
                "ensemble checkpoints of one data set"
            )
        targets = member_targets
        probabilities.append(member_probabilities)
        metrics.update({f"members/{i}/{k}": v for k, v in plain_metrics(trainer.callback_metrics).items()})
        metrics[f"members/{i}/ckpt_path"] = str(member.path)
    assert targets is not None
    mean = mean_probabilities(probabilities)
    num_classes = int(members[0].model.hparams["num_classes"])
    names = class_names(members[0].datamodule, num_classes)
    per_class = per_class_metrics(num_classes)
    per_class.update(mean, targets)
    results = per_class.compute()
    ensemble = {
        "ensemble/test/acc": (mean.argmax(dim=1) == targets).double().mean().item(),
        "ensemble/test/loss": F.nll_loss(mean.clamp_min(1e-12).log(), targets).item(),
        "ensemble/members": len(members),
        **report(results, names, prefix="ensemble/test"),
    }
    metrics = {**ensemble, **metrics}
    out_dir = Path(cfg.paths.output_dir)
    plot_confusion(results["confusion"], names, out_dir / CONFUSION_PNG, title="ensemble test confusion matrix")
    plots.wait()
    write_metrics(out_dir / "metrics.json", metrics)
    print_summary(f"trainlab: test metrics of an ensemble of {len(members)}", metrics, out_dir / "metrics.json")
    return metrics
