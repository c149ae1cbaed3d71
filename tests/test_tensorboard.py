"""TensorBoard: per-epoch scalars and weight/gradient histograms, read back with TensorBoard's own reader."""

from __future__ import annotations

import pytest
from helpers.config import QUICK
from helpers.training import read_metrics
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def test_event_files_hold_scalars_and_histograms(train_run, tmp_path):
    train_run(*QUICK, "trainer.max_epochs=2", "logger=tensorboard")
    run_dir = tmp_path / "run"
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()

    for key in ("train/loss", "train/acc", "val/loss", "val/acc", "val/acc_best", "test/acc", "test/loss"):
        assert key in tags["scalars"], (key, tags["scalars"])
    assert [e.value for e in events.Scalars("val/acc")][-1] == pytest.approx(read_metrics(run_dir)["val/acc"])
    assert len(events.Scalars("train/loss")) == 2  # one per epoch

    weights = sorted(t for t in tags["histograms"] if t.startswith("weights/"))
    grads = sorted(t for t in tags["histograms"] if t.startswith("gradients/"))
    assert "weights/layers.1.weight" in weights, tags["histograms"]
    assert [t.removeprefix("gradients/") for t in grads] == [t.removeprefix("weights/") for t in weights]
    assert events.Histograms(grads[0])[-1].histogram_value.sum_squares > 0  # real gradients, not zeros
    first = events.Histograms(weights[0])
    assert [h.step for h in first] == [20, 40]  # histogram_freq=1: after each epoch's last step
    assert first[-1].histogram_value.num > 0


@pytest.mark.slow
def test_histogram_freq_zero_turns_them_off(train_run, tmp_path):
    train_run(*QUICK, "logger=tensorboard", "callbacks.histograms.histogram_freq=0")
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    assert events.Tags()["histograms"] == []
    assert "val/acc" in events.Tags()["scalars"]


def test_without_tensorboard_the_histogram_batch_hooks_are_off(tmp_path):
    import lightning as L
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    from trainlab.loggers.histograms import BATCH_HOOKS_USED, WeightHistograms

    callback = WeightHistograms()
    callback.setup(L.Trainer(logger=CSVLogger(tmp_path), default_root_dir=tmp_path), None, "fit")
    assert all(getattr(callback, hook) is None for hook in BATCH_HOOKS_USED)  # Lightning skips them
    callback.setup(L.Trainer(logger=TensorBoardLogger(tmp_path), default_root_dir=tmp_path), None, "fit")
    assert all(callable(getattr(callback, hook)) for hook in BATCH_HOOKS_USED)
