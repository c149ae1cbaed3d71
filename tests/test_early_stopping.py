"""Early stopping as the notes state it: besides the validation metric, stop when the gradient norm (∇E → 0) or
the relative weight change (Δw → 0) falls below a threshold, by monitoring what the gradient monitor logs each
epoch (`train/grad_norm`, `train/update_ratio`) with Lightning's `stopping_threshold`."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.config import QUICK

GRAD_NORM = [
    "regularization=early_stopping",
    "regularization.early_stopping.monitor=train/grad_norm",
    "regularization.early_stopping.patience=100",  # the threshold alone decides
    "trainer.max_epochs=3",
    "++trainer.limit_train_batches=5",
    "diagnostics.activations.every_n_epochs=0",
]


@pytest.mark.parametrize(("threshold", "epochs"), [(1e6, 1), (1e-9, 3)])
def test_grad_norm_below_the_threshold_stops_the_run(threshold: float, epochs: int, train_run, tmp_path: Path) -> None:
    """Every gradient norm is below 1e6 (stop after the first epoch) and above 1e-9 (all three epochs run)."""
    overrides = [*QUICK, *GRAD_NORM, f"regularization.early_stopping.stopping_threshold={threshold}"]
    metrics = train_run(*overrides, run_dir=tmp_path / str(threshold))
    assert metrics["epochs"] == epochs
    norms = [row["train/grad_norm"] for row in metrics["history"]]
    assert len(norms) == epochs and all(1e-9 < n < 1e6 for n in norms)
