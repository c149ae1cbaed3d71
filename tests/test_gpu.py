"""On a CUDA GPU: the data set is held on the device and batches are cut there, a non-finite loss is caught by
the check that reads the device every 50 steps, and `trainer.precision=bf16-mixed` trains. Marked `gpu`: skipped,
with the reason, where torch sees no CUDA device."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from helpers.config import QUICK
from helpers.training import read_metrics

pytestmark = pytest.mark.gpu

GPU = ["trainer/accelerator=gpu", *QUICK]


def record_devices(out_dir: Path) -> list[str]:
    return ["+callbacks.devices._target_=helpers.probes.RecordDevices", f"+callbacks.devices.out_dir={out_dir}"]


def test_batches_are_cut_from_data_held_on_the_gpu(train_run, tmp_path: Path) -> None:
    metrics = train_run(*GPU, *record_devices(tmp_path))
    seen = json.loads((tmp_path / "devices.json").read_text())
    assert seen["split"] == ["cuda:0"]  # moved once, whole, before the first batch
    assert seen["batch"] == ["cuda:0"]
    assert metrics["status"] == "completed" and metrics["train/acc"] > 0.2


def test_non_finite_loss_is_caught_within_50_steps(train_run, tmp_path: Path, capsys) -> None:
    diverge = ["++trainer.limit_train_batches=120", "optimizer=sgd", "optimizer.lr=1e6", "scheduler=none"]
    with pytest.raises(SystemExit) as stop:
        train_run(*GPU, *diverge)
    stderr = capsys.readouterr().err
    assert stop.value.code == 2, stderr[-3000:]
    metrics = read_metrics(tmp_path / "run")
    assert metrics["status"] == "diverged"
    first, stopped = metrics["diverged_at_step"], metrics["global_step"]
    # The first bad step is recorded on the device as it happens and read at the next check: no sync per step,
    # so training went on for a while, but never 50 steps past it (on a CPU it stops at that very step).
    assert 0 < first < stopped <= first + 50, (first, stopped)
    (line,) = [ln for ln in stderr.splitlines() if "error: training diverged" in ln]
    assert f"at step {first} (epoch 0)" in line


def test_bf16_mixed_trains_an_epoch(train_run, tmp_path: Path) -> None:
    metrics = train_run(*GPU, "trainer.precision=bf16-mixed", *record_devices(tmp_path))
    seen = json.loads((tmp_path / "devices.json").read_text())
    assert seen["logits"] == ["torch.bfloat16"]  # the forward pass ran in bf16
    assert metrics["status"] == "completed" and metrics["train/acc"] > 0.2
    assert math.isfinite(metrics["val/loss"]) and math.isfinite(metrics["test/loss"])
