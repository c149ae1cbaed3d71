"""A Hydra multirun over init and activation runs every job, and the switches show their effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.config import QUICK


@pytest.mark.slow
def test_init_by_activation_sweep_runs_every_job(run_entry, tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    quick = [o for o in QUICK if not o.startswith("++trainer.limit_train_batches")]
    result = run_entry(
        "train",
        "hydra.mode=MULTIRUN",
        "init=zeros,he",
        "model.activation=sigmoid,relu",
        *quick,
        "++trainer.limit_train_batches=60",
        "callbacks=none",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(sweep_dir.glob("*/metrics.json"))
    assert len(jobs) == 4
    acc = {}
    for path in jobs:
        overrides = (path.parent / ".hydra" / "overrides.yaml").read_text()
        init = "zeros" if "init=zeros" in overrides else "he"
        activation = "sigmoid" if "activation=sigmoid" in overrides else "relu"
        acc[init, activation] = json.loads(path.read_text())["test/acc"]
    # Zero weights: every hidden unit computes the same value, so the net cannot learn beyond a linear read-out of
    # one unit (ReLU: of nothing at all); He init learns in 60 steps.
    assert acc["zeros", "relu"] < 0.2
    assert acc["he", "relu"] > 0.8 and acc["he", "sigmoid"] > 0.5
    assert acc["zeros", "sigmoid"] < acc["he", "sigmoid"]
