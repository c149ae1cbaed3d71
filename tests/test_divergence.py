"""A NaN or inf loss stops training at once with the step and the likely causes; in a sweep only that job fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.config import QUICK
from helpers.training import read_metrics

HUGE_LR = ["optimizer=sgd", "optimizer.lr=1e6", "scheduler=none"]


def test_non_finite_loss_stops_with_the_step_and_causes(train_run, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        train_run(*QUICK, *HUGE_LR)
    stderr = capsys.readouterr().err
    assert stop.value.code == 2, stderr[-3000:]
    (line,) = [ln for ln in stderr.splitlines() if "error: training diverged" in ln]
    metrics = read_metrics(tmp_path / "run")
    assert metrics["status"] == "diverged"
    step = metrics["diverged_at_step"]
    assert 0 < step < 20 and f"at step {step} (epoch 0)" in line
    assert "optimizer.lr=1000000.0" in line and "init=" in line
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_a_diverged_job_fails_and_the_sweep_goes_on(run_entry, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_entry("train", "-m", *QUICK, "optimizer=sgd", "optimizer.lr=1e6,0.05", f"hydra.sweep.dir={sweep}")
    statuses = {p.parent.name: json.loads(p.read_text())["status"] for p in sweep.glob("*/metrics.json")}
    assert statuses == {"0": "diverged", "1": "completed"}  # job 1 ran after job 0 diverged
    assert json.loads((sweep / "1" / "metrics.json").read_text())["test/acc"] > 0.3
    # The summary still comes, the diverged job last; then one line, exit 1, and none of Hydra's job-error lines.
    table = result.stdout[result.stdout.index("sweep summary: 2 jobs") :].splitlines()
    assert table[2].split()[:3] == ["1", "1", "optimizer.lr=0.05"] and table[3].split() == [
        "-",
        "0",
        "optimizer.lr=1000000.0",
        "diverged",
    ]
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors[0].startswith("error: training diverged: the training loss is")
    assert errors[1:] == [
        "error: 1 of 2 jobs diverged: job 0 (optimizer.lr=1000000.0); each job's metrics.json says where"
    ]
    assert result.returncode == 1
