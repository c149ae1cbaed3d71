"""The diagnostics' PNGs are drawn cheaply and stay readable: plain log-axis labels (no mathtext, whose parser
costs 0.4 s of CPU on first use), a few labels even on a narrow range, and the confusion matrix's mistakes
written in (not all k² cells)."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from trainlab.diagnostics import plots


def tick_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text()]


def test_log_axes_have_plain_labels_on_narrow_and_wide_ranges(tmp_path: Path) -> None:
    steps = list(range(0, 600, 50))
    narrow = [[0.15 + 0.01 * i, 0.3, 0.8] for i in range(len(steps))]  # less than a decade
    wide = [[10 ** (-14 + i * 0.1), 1e-6, 0.3] for i in range(len(steps))]  # 13 decades: vanishing gradients
    for norms in (narrow, wide):
        figure = plots.gradient_flow(steps, ["layers.1", "layers.5", "layers.9"], norms, norms)
        plots.save(figure, tmp_path / "gradients.png")
        labels = tick_labels(figure.axes[0])
        assert len(labels) >= 2 and not any("$" in label for label in labels), labels
    assert "1e-12" in labels and "1" in labels
    with Image.open(tmp_path / "gradients.png") as image:
        assert image.format == "PNG" and image.size[0] > 400


def test_the_confusion_matrix_writes_in_only_the_mistakes(tmp_path: Path) -> None:
    counts = torch.eye(10, dtype=torch.long) * 95
    counts[9, 4], counts[7, 2] = 10, 3
    figure = plots.confusion(counts, [str(i) for i in range(10)], "test confusion matrix")
    texts = sorted(t.get_text() for t in figure.axes[0].texts)
    assert texts == ["10", "3"]
    plots.save(figure, tmp_path / "confusion.png")
    with Image.open(tmp_path / "confusion.png") as image:
        image.verify()


def test_plots_are_written_in_the_background_and_waited_for(tmp_path: Path, caplog) -> None:
    import threading

    release = threading.Event()

    def held_curves() -> object:  # a slow plot: it renders only once the test lets it
        assert release.wait(timeout=10)
        return plots.learning_curves([{"epoch": 1, "train/loss": 0.5, "val/loss": 0.6}], 1)

    path = tmp_path / "curves.png"
    plots.write(path, held_curves)  # returns at once: the caller (training) goes on
    assert not path.exists()
    release.set()
    plots.wait()
    assert path.read_bytes().startswith(b"\x89PNG")

    def broken() -> object:
        raise ValueError("no data")

    plots.write(tmp_path / "broken.png", broken)
    plots.wait()  # a plot that fails is a warning, not a failed run
    assert not (tmp_path / "broken.png").exists()
    assert any("could not write" in r.getMessage() and "no data" in r.getMessage() for r in caplog.records)
