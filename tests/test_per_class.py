"""Per-class results at test time (trainlab.evaluation_report): per-class accuracy, macro F1, the confusion matrix,
confusion.png and the worst-confused pairs in the summary."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.config import QUICK
from helpers.training import read_metrics
from PIL import Image

from trainlab.evaluation_report import PerClassReport, class_names, model_task, worst_confused


def test_a_run_reports_per_class_results_that_add_up_to_test_acc(train_run, tmp_path: Path, capsys) -> None:
    # Three test batches of 1000: the per-class figures cover exactly the 3000 samples test/acc covers.
    train_run(*QUICK, "++trainer.limit_test_batches=3")
    metrics = read_metrics(tmp_path / "run")
    accs, counts = metrics["test/acc_per_class"], metrics["test/class_counts"]
    assert list(accs) == [str(i) for i in range(10)] and sum(counts.values()) == 3000
    weighted = sum(accs[c] * counts[c] for c in accs) / sum(counts.values())
    assert weighted == pytest.approx(metrics["test/acc"], abs=1e-6)
    assert min(accs.values()) < metrics["test/acc"] < max(accs.values())  # the classes really differ
    confusion = torch.tensor(metrics["test/confusion_matrix"]["rows_true_cols_predicted"])
    assert confusion.sum() == 3000 and confusion.diagonal().sum() / 3000 == pytest.approx(metrics["test/acc"])
    assert 0 < metrics["test/f1_macro"] < 1
    # The worst pair named is the largest off-diagonal count of the matrix.
    off = confusion.clone().fill_diagonal_(0)
    true, predicted = divmod(int(off.argmax()), 10)
    assert metrics["test/worst_confused"].startswith(f"{true}→{predicted} ({int(off.max())})")
    out = capsys.readouterr().out
    assert f"test/worst_confused  {metrics['test/worst_confused']}" in out
    assert "rows_true_cols_predicted" not in out  # the matrix stays in metrics.json
    png = tmp_path / "run" / "confusion.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as image:
        image.verify()
        assert image.size[0] > 300


def test_worst_confused_pairs_and_class_names() -> None:
    confusion = torch.tensor([[5, 0, 3], [1, 7, 0], [0, 9, 2]])
    assert worst_confused(confusion, ["a", "b", "c"]) == [("c", "b", 9), ("a", "c", 3), ("b", "a", 1)]
    assert worst_confused(torch.eye(3, dtype=torch.long), ["a", "b", "c"]) == []

    class WithNames:
        classes = ("cat", "dog")

    assert class_names(WithNames(), 2) == ["cat", "dog"]
    assert class_names(object(), 3) == ["0", "1", "2"]


def test_other_tasks_are_skipped_not_misreported() -> None:
    class Binary:
        def __init__(self) -> None:
            self.hparams = {"task": {"name": "binary"}, "num_classes": 1}
            self.device = torch.device("cpu")

    assert model_task(Binary()) == "binary"
    report = PerClassReport()
    report.on_test_epoch_start(None, Binary())  # type: ignore[arg-type]
    report.on_test_batch_end(None, Binary(), {"logits": torch.zeros(2, 1), "target": torch.zeros(2)}, None, 0)  # type: ignore[arg-type]
    assert report.metrics is None and report.results == {}
