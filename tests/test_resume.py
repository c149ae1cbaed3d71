"""resume=true: the latest run of the task continues from last.ckpt, in its own run dir, with its own loggers."""

from __future__ import annotations

import csv
import os
import subprocess
import time
from pathlib import Path

import pytest
from helpers import runner
from helpers.config import QUICK
from helpers.paths import CONF
from helpers.training import read_metrics
from helpers.wandb_file import read_run, run_files
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from trainlab.config.run_dirs import LAST_CKPT, latest_run, register_resolver, run_dir


def touch_run(runs: Path, name: str, mtime: float) -> Path:
    ckpt = runs / name / LAST_CKPT
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")
    os.utime(ckpt, (mtime, mtime))
    return runs / name


def test_the_latest_checkpointed_run_is_picked(tmp_path):
    runs = tmp_path / "logs" / "train" / "runs"
    assert latest_run(runs) is None
    now = time.time()
    touch_run(runs, "2026-01-01_00-00-00_000000", now - 100)
    newer = touch_run(runs, "2025-12-31_00-00-00_000000", now - 10)  # resumed later: its last.ckpt is newest
    (runs / "2026-02-01_00-00-00_000000").mkdir()  # no last.ckpt (e.g. crashed before the first epoch)
    assert latest_run(runs) == newer
    assert run_dir(str(runs), "new", "true") == str(newer)
    assert run_dir(str(runs), "new", False) == str(runs / "new")
    assert run_dir(str(tmp_path / "none"), "new", True) == str(tmp_path / "none" / "new")


def test_hydra_run_dir_resolves_to_the_run_to_resume(tmp_path):
    register_resolver()
    runs = tmp_path / "logs" / "train" / "runs"
    old = touch_run(runs, "old", time.time())
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    def chosen(resume: str) -> Path:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose("train", overrides=[f"resume={resume}"], return_hydra_config=True)
        with open_dict(cfg):
            cfg.paths.log_dir = str(tmp_path / "logs")
        return Path(cfg.hydra.run.dir)

    assert chosen("true") == old
    new = chosen("false")
    assert new.parent == runs and new != old


def test_nothing_to_resume_is_a_one_line_error(run_entry, tmp_path):
    result = run_entry("train", *QUICK, "resume=true")
    assert result.returncode == 2
    assert result.stderr.startswith("error: resume=true: nothing to resume"), result.stderr
    assert "Traceback" not in result.stderr


def test_resume_refuses_multirun(run_entry, tmp_path):
    result = run_entry("train", "hydra.mode=MULTIRUN", *QUICK, "resume=true", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert result.returncode == 2
    assert "error: resume=true continues one run" in result.stderr, result.stderr[-2000:]


def train(log_dir: Path, mnist_dir: Path, cache_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """`python src/train.py` with its default run dir (under `log_dir`), W&B offline."""
    cmd = runner.command("train", [f"paths.log_dir={log_dir}", f"paths.cache_dir={cache_dir}", *QUICK, *overrides])
    return runner.run(cmd, env={"TRAINLAB_DATA_DIR": str(mnist_dir), "WANDB_MODE": "offline"})


@pytest.mark.slow
def test_resume_continues_the_run_and_its_loggers(tmp_path, mnist_dir, cache_dir):
    logs = tmp_path / "logs"
    first = train(logs, mnist_dir, cache_dir, "logger=many")
    assert first.returncode == 0, first.stderr[-3000:]
    (run,) = (logs / "train" / "runs").iterdir()
    assert read_metrics(run)["epochs"] == 1
    run_id = (run / "wandb" / "trainlab_run_id").read_text().strip()

    second = train(logs, mnist_dir, cache_dir, "logger=many", "resume=true", "trainer.max_epochs=2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert list((logs / "train" / "runs").iterdir()) == [run]  # no new run dir: the same one continued
    assert f"Restored all states from the checkpoint at {run / LAST_CKPT}" in (run / "train.log").read_text()
    assert read_metrics(run)["epochs"] == 2

    # W&B: one run id, one offline file per session; the second goes on from the first's step and epoch.
    sessions = [read_run(f) for f in run_files(run)]
    assert [s.run_id for s in sessions] == [run_id, run_id]
    assert sessions[0].metric("epoch")[0] == 0 and max(sessions[1].metric("epoch")) == 2
    assert min(sessions[1].metric("trainer/global_step")) >= 20

    # TensorBoard: the same folder, val/acc for epochs 1 and 2 at steps 19 and 39.
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("val/acc")] == [19, 39]
    assert [p.name for p in run.iterdir() if p.name.startswith("tensorboard")] == ["tensorboard"]

    # CSV: the first session's rows are still there, the second's appended.
    with open(run / "csv" / "metrics.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["train/acc"]]
    assert [r["epoch"] for r in rows] == ["0", "1"]
