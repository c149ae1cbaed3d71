"""Several checkpoints as one model: `ckpt_path=[a.ckpt,b.ckpt]` or a sweep dir (each job's best checkpoint).

An ensemble's class probabilities are the mean of its members' (each member scales the inputs its own way, as it
was trained); `src/eval.py` reports each member's test metrics beside the ensemble's, `src/predict.py` writes the
ensemble's predictions. Multi-class classifiers only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import Tensor

from trainlab.callbacks.lean import LeanCallback
from trainlab.checkpoints import load_checkpoint
from trainlab.classifier import Classifier
from trainlab.config.errors import UserError
from trainlab.data import InMemoryDataModule
from trainlab.evaluation_report import model_task

# What to pass when a key the command needs is still `???`.
REQUIRED = {
    "ckpt_path": "pass ckpt_path=<run dir>/checkpoints/<file>.ckpt (an ensemble: a list of them, or a sweep dir)",
    "inputs": "pass inputs=<images.npy>, a PNG/JPEG file or a folder of them",
}


def required(cfg: DictConfig, key: str) -> Any:
    """`cfg[key]`, or a one-line error saying how to set it when it is still `???`."""
    if OmegaConf.is_missing(cfg, key):
        raise UserError(f"{key} is not set: {REQUIRED[key]}")
    return cfg[key]


def checkpoint_paths(ckpt_path: Any) -> list[Path]:
    """The checkpoint files `ckpt_path` names: a .ckpt file, a run dir (its best checkpoint), a sweep dir (each
    job's best, in job order), or a list of these."""
    entries = list(ckpt_path) if isinstance(ckpt_path, ListConfig | list | tuple) else [ckpt_path]
    paths: list[Path] = []
    for entry in entries:
        path = Path(str(entry))
        if path.is_file():
            paths.append(path)
        elif path.is_dir():
            paths.extend(best_checkpoints(path))
        else:
            raise UserError(f"ckpt_path={entry}: no such file or folder; pass .ckpt files, a run dir or a sweep dir")
    return paths


def job_order(folder: Path) -> tuple[int, str]:
    """Sweep jobs by number (0, 1, …, 10), other folder names after them."""
    return (int(folder.name), "") if folder.name.isdigit() else (1 << 30, folder.name)


def best_checkpoints(folder: Path) -> list[Path]:
    """The best checkpoint of a run dir, or of each job of a sweep dir (from each run's metrics.json `ckpt_best`,
    looked up in its own checkpoints/ folder, so a moved or copied sweep still works)."""
    runs = [folder] if (folder / "metrics.json").is_file() else []
    runs = runs or sorted((d for d in folder.iterdir() if (d / "metrics.json").is_file()), key=job_order)
    if not runs:
        raise UserError(
            f"ckpt_path={folder}: neither a run dir nor a sweep dir (no metrics.json in it or its subfolders); "
            "pass .ckpt files, a run dir or a sweep dir"
        )
    found = []
    for run in runs:
        try:
            best = json.loads((run / "metrics.json").read_text()).get("ckpt_best")
        except ValueError:
            best = None
        path = run / "checkpoints" / Path(best).name if best else None
        if path is None or not path.is_file():
            raise UserError(
                f"ckpt_path={folder}: {run} has no best checkpoint (metrics.json ckpt_best={best}); "
                "pass the checkpoints to use as a list instead"
            )
        found.append(path)
    return found


@dataclass
class Member:
    """One checkpoint of an ensemble: its model (eval mode) and the data module it was trained with."""

    path: Path
    model: Classifier
    datamodule: InMemoryDataModule


def load_member(cfg: DictConfig, path: Path) -> Member:
    """Rebuild a checkpoint's model and data module (split and input scaling) on this machine's files."""
    from trainlab.evaluation import recorded_datamodule

    checkpoint = load_checkpoint(str(path))
    datamodule = recorded_datamodule(cfg, checkpoint)
    model = Classifier(**checkpoint["hyper_parameters"])
    model.load_state_dict(checkpoint["state_dict"])
    task = model_task(model)
    if task != "multiclass":
        raise UserError(f"ckpt_path={path}: predictions and ensembles are for multi-class classifiers (task: {task})")
    return Member(path, model.eval(), datamodule)


def check_compatible(members: Sequence[Member]) -> None:
    """Members must see the same inputs and name the same classes: their probabilities are averaged."""
    first = members[0].model.hparams
    for member in members[1:]:
        hp = member.model.hparams
        if list(hp["in_shape"]) != list(first["in_shape"]) or hp["num_classes"] != first["num_classes"]:
            raise UserError(
                f"ckpt_path: {member.path} takes inputs {list(hp['in_shape'])} with {hp['num_classes']} classes, "
                f"{members[0].path} {list(first['in_shape'])} with {first['num_classes']}: ensemble checkpoints "
                "of one data set"
            )


def mean_probabilities(probabilities: Sequence[Tensor]) -> Tensor:
    """The ensemble's class probabilities: the members' mean (in float64)."""
    return torch.stack([p.double() for p in probabilities]).mean(dim=0)


class TestProbabilities(LeanCallback):
    """Collect the model's class probabilities and the targets of a test pass (on the CPU, in test order)."""

    def __init__(self) -> None:
        self.probabilities: list[Tensor] = []
        self.targets: list[Tensor] = []

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.probabilities, self.targets = [], []

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self.probabilities.append(pl_module.probabilities(outputs["logits"].detach()).cpu())
        self.targets.append(outputs["target"].cpu())

    def result(self) -> tuple[Tensor, Tensor]:
        return torch.cat(self.probabilities), torch.cat(self.targets)
