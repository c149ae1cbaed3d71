"""SIGTERM/SIGINT mid-epoch: last.ckpt of the current state, status "interrupted", exit 128 + signal; resume
finishes the run with the epoch count, the batches and the very weights of an uninterrupted one. A signal while
the trained model is tested is an interruption too."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from helpers import runner
from helpers.config import QUICK
from helpers.training import read_metrics

from trainlab.config.run_dirs import LAST_CKPT

SLOW = ["+callbacks.slow._target_=helpers.probes.SlowSteps", "+callbacks.slow.seconds=0.05"]
EPOCHS = ["trainer.max_epochs=2", "++trainer.limit_train_batches=40"]


def start_training(run_dir: Path, mnist_dir: Path, cache_dir: Path, *overrides: str) -> subprocess.Popen:
    cmd = runner.command("train", [*QUICK, f"paths.cache_dir={cache_dir}", *overrides], run_dir=run_dir)
    return runner.start(cmd, env={"TRAINLAB_DATA_DIR": str(mnist_dir), "OMP_NUM_THREADS": "1"})


def signal_mid_epoch(proc: subprocess.Popen, run_dir: Path, signum: int) -> tuple[int, str]:
    """Send `signum` once the first epoch's checkpoint exists (training is then well into epoch 1)."""
    deadline = time.monotonic() + 300
    while not (run_dir / "checkpoints" / "epoch_000.ckpt").exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the first epoch never ended"
        time.sleep(0.1)
    time.sleep(0.5)  # a few slowed batches into epoch 1
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=300)
    return proc.returncode, stderr


@pytest.mark.slow
def test_sigterm_saves_last_ckpt_and_resume_finishes(tmp_path: Path, mnist_dir: Path, cache_dir: Path) -> None:
    run = tmp_path / "run"
    proc = start_training(run, mnist_dir, cache_dir, *EPOCHS, *SLOW)
    code, stderr = signal_mid_epoch(proc, run, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, stderr[-3000:]
    assert "interrupted by SIGTERM" in stderr and "resume=true" in stderr
    metrics = read_metrics(run)
    assert metrics["status"] == "interrupted" and metrics["signal"] == signal.SIGTERM
    assert metrics["epochs"] == 1 and 40 < metrics["global_step"] < 80  # stopped inside epoch 1
    ckpt = torch.load(run / LAST_CKPT, map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == metrics["global_step"]  # the state at the interruption, not an epoch end
    assert (run / "csv" / "metrics.csv").read_text().count("\n") >= 3  # the CSV logger was flushed

    resumed = start_training(run, mnist_dir, cache_dir, *EPOCHS, "resume=true")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr[-3000:]
    final = read_metrics(run)
    assert final["status"] == "completed" and final["epochs"] == 2
    assert final["test/acc"] > 0.85
    assert torch.load(run / LAST_CKPT, map_location="cpu", weights_only=True)["global_step"] == 80


@pytest.mark.slow
def test_sigint_is_interrupted_with_exit_130(tmp_path: Path, mnist_dir: Path, cache_dir: Path) -> None:
    run = tmp_path / "run"
    proc = start_training(run, mnist_dir, cache_dir, *EPOCHS, *SLOW, "callbacks.model_checkpoint.save_last=false")
    code, stderr = signal_mid_epoch(proc, run, signal.SIGINT)
    assert code == 130, stderr[-3000:]
    assert read_metrics(run)["status"] == "interrupted"
    assert (run / LAST_CKPT).is_file()  # saved by the interruption itself, not by ModelCheckpoint


def test_completed_run_says_so(train_run, tmp_path: Path) -> None:
    train_run(*QUICK, "++trainer.limit_train_batches=5", "test=false")
    assert read_metrics(tmp_path / "run")["status"] == "completed"


DETERMINISTIC = ["trainer.max_epochs=2", "trainer.deterministic=true"]


def run_to_end(proc: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = proc.communicate(timeout=600)
    return proc.returncode, stdout, stderr


def weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / LAST_CKPT, map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.slow
def test_a_run_resumed_mid_epoch_ends_with_the_weights_of_an_uninterrupted_one(
    tmp_path: Path, mnist_dir: Path, cache_dir: Path
):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    code, _, stderr = run_to_end(start_training(whole, mnist_dir, cache_dir, *DETERMINISTIC))
    assert code == 0, stderr[-3000:]

    # SIGINT right after step 27: 7 batches into the second epoch (20 batches each).
    stop = ["+callbacks.stop._target_=helpers.probes.SignalAtStep", "+callbacks.stop.step=27"]
    code, stdout, stderr = run_to_end(start_training(parts, mnist_dir, cache_dir, *DETERMINISTIC, *stop))
    assert code == 130, stderr[-3000:]
    assert "weights_only" not in stdout  # Lightning's "`weights_only` was not set" line, printed on every interruption
    print("\n" + stderr.strip().splitlines()[-1])
    saved = torch.load(parts / LAST_CKPT, map_location="cpu", weights_only=True)
    assert saved["global_step"] == 27
    assert saved["loops"]["fit_loop"]["state_dict"]["combined_loader"] == [{"epoch": 1, "batches": 7}]

    code, _, stderr = run_to_end(start_training(parts, mnist_dir, cache_dir, "resume=true", "trainer.max_epochs=2"))
    assert code == 0, stderr[-3000:]
    assert "not resumable" not in stderr  # Lightning's "unreliable results" warning is gone
    a, b = weights(whole), weights(parts)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # the very same 40 steps
    assert read_metrics(parts)["status"] == "completed" and read_metrics(parts)["epochs"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_testing_is_an_interruption(
    tmp_path: Path, mnist_dir: Path, cache_dir: Path, signum: int
) -> None:
    run = tmp_path / "run"
    stop = [
        "+callbacks.stop._target_=helpers.probes.SignalAtStep",
        "+callbacks.stop.test_batch=0",
        f"+callbacks.stop.signum={signum}",
    ]
    code, _, stderr = run_to_end(start_training(run, mnist_dir, cache_dir, *stop))
    assert code == 128 + signum, stderr[-3000:]
    assert f"interrupted by {signal.Signals(signum).name}" in stderr
    metrics = read_metrics(run)
    assert metrics["status"] == "interrupted" and metrics["interrupted_during"] == "test"
    assert metrics["signal"] == signum and metrics["epochs"] == 1
    assert {"train/acc", "val/acc"} <= metrics.keys() and "test/acc" not in metrics  # the fit's metrics are kept
