"""`tune=lr_find` and `tune=batch_size` (trainlab.tuning): Lightning's LR finder and batch-size scaler."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from helpers.config import QUICK
from PIL import Image

SMALL = [*QUICK, "model.hidden=[32]", "data.val_size=59000", "++trainer.limit_val_batches=1"]


def test_lr_find_writes_its_plot_and_suggests_an_lr(train_run, tmp_path: Path, capsys) -> None:
    metrics = train_run(*SMALL, "tune=lr_find", "tune.num_training=20", "tune.min_lr=1e-5", "tune.max_lr=1")
    run = tmp_path / "run"
    assert metrics == {}  # nothing trained: no checkpoint either
    assert not (run / "checkpoints").exists()
    (line,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("tune=lr_find")]
    shown = re.search(r"suggested optimizer\.lr=(\S+)", line).group(1)
    suggested = float(shown)
    assert 1e-5 <= suggested <= 1 and f"(train with: python src/train.py optimizer.lr={shown})" in line
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["status"] == "tuned" and f"{saved['tune/optimizer.lr']:.3g}" == f"{suggested:.3g}"
    with Image.open(run / "lr_find.png") as image:
        assert image.format == "PNG"
        image.verify()


def test_batch_size_scaler_changes_the_batch_size_training_uses(train_run, tmp_path: Path, capsys) -> None:
    # 1000 training samples; the scaler doubles 16 → 128 (max_val), and training goes on with batches of 128:
    # ceil(1000 / 128) = 8 optimizer steps in the epoch, where the configured 256 would make 4.
    train_run(
        *SMALL,
        "tune=batch_size",
        "tune.apply=true",
        "tune.init_val=16",
        "tune.max_val=128",
        "tune.steps_per_trial=1",
        "++trainer.limit_train_batches=null",
    )
    out = capsys.readouterr().out
    assert "tune=batch_size: suggested data.batch_size=128 (training with it)" in out
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 8
    assert checkpoint["datamodule_hyper_parameters"]["batch_size"] == 128
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "completed"


def test_tune_settings_that_cannot_work_are_refused(tmp_path: Path) -> None:
    from helpers.config import compose_train

    from trainlab.config.validation import problems

    ckpt = tmp_path / "a.ckpt"
    ckpt.write_bytes(b"")
    assert problems(compose_train(["tune=lr_find"])) == []
    assert problems(compose_train(["tune=lr_find", f"ckpt_path={ckpt}"])) == [
        "tune=lr_find searches from the initial weights: drop ckpt_path and resume"
    ]
    assert problems(compose_train(["tune=batch_size", "train=false", f"ckpt_path={ckpt}"]))[-1] == (
        "tune=batch_size with train=false does nothing: drop one of them"
    )
    assert problems(compose_train(["tune=lr_find", "tune.min_lr=1", "tune.max_lr=0.1"])) == [
        "tune.min_lr=1 is not below tune.max_lr: must be smaller than 0.1"
    ]
    assert problems(compose_train(["tune=lr_find", "tune.num_training=5"]))[0].startswith("tune.num_training=5 is")
