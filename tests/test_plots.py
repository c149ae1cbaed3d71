"""The diagnostics' PNGs are drawn cheaply and stay readable: plain log-axis labels (no mathtext, whose parser
costs 0.4 s of CPU on first use), a few labels even on a narrow range, and the confusion matrix's mistakes
written in (not all k² cells). A run's PNGs are drawn by a separate process, never lost: a plot that fails is a
warning, and without that process they are drawn in the run's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from trainlab.diagnostics import drawer, plots


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
    figure = plots.confusion(counts.tolist(), [str(i) for i in range(10)], "test confusion matrix")
    texts = sorted(t.get_text() for t in figure.axes[0].texts)
    assert texts == ["10", "3"]
    plots.save(figure, tmp_path / "confusion.png")
    with Image.open(tmp_path / "confusion.png") as image:
        image.verify()


ROWS = [{"epoch": 1, "train/loss": 0.5, "val/loss": 0.6, "train/acc": 0.8, "val/acc": 0.7}]


def test_plots_are_drawn_by_another_process_and_waited_for(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from trainlab.diagnostics import drawer, plots\n"
        f"path = Path({str(tmp_path / 'curves.png')!r})\n"
        f"plots.write(path, plots.learning_curves, {ROWS!r}, 1)\n"
        "plots.wait()\n"
        "print(path.read_bytes()[:4], 'matplotlib' in sys.modules, drawer._drawer.process.pid)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    head, loaded, _ = done.stdout.split()
    assert head == "b'\\x89PNG'" and loaded == "False", done.stdout  # written, and matplotlib never loaded here
    assert done.stderr == ""


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="process priorities are POSIX")
def test_the_drawing_process_runs_at_the_lowest_priority(tmp_path: Path) -> None:
    plots.write(tmp_path / "curves.png", plots.learning_curves, ROWS, 1)
    plots.wait()  # the process has started and drawn: its priority is set
    assert os.getpriority(os.PRIO_PROCESS, drawer._drawer.process.pid) == 19  # it takes the cores training leaves


def test_a_plot_that_fails_is_a_warning_and_the_drawer_goes_on(tmp_path: Path, caplog) -> None:
    plots.write(tmp_path / "broken.png", plots.learning_curves, [{"epoch": "one", "train/loss": "x"}], None)
    plots.write(tmp_path / "curves.png", plots.learning_curves, ROWS, 1)
    plots.wait()  # a plot that fails is a warning, not a failed run
    assert not (tmp_path / "broken.png").exists()
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")
    assert any("could not write" in r.getMessage() and "broken.png" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="figure functions"):  # the drawer runs this module's functions only
        plots.write(tmp_path / "x.png", lambda: None)


def test_without_the_drawing_process_plots_are_drawn_here(tmp_path: Path) -> None:
    drawer.start()
    drawer._drawer.process.kill()  # it died (out of memory, say)
    drawer._drawer.process.wait()
    for name in ("a.png", "b.png"):
        plots.write(tmp_path / name, plots.learning_curves, ROWS, 1)
    plots.wait()
    assert all((tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in ("a.png", "b.png"))
    drawer.close()  # the next test starts a new one
    plots.write(tmp_path / "c.png", plots.learning_curves, ROWS, 1)
    plots.wait()
    assert drawer._drawer is not None and drawer._drawer.alive


def test_a_relative_path_is_taken_from_the_callers_folder(tmp_path: Path, monkeypatch) -> None:
    drawer.start()  # the drawing process starts (or runs on) in another folder
    monkeypatch.chdir(tmp_path)  # a Hydra job with hydra.job.chdir=true moves into its run dir
    plots.write(Path("curves.png"), plots.learning_curves, ROWS, 1)
    plots.wait()
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_the_other_ranks_of_a_multi_process_run_start_no_drawing_process(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path\n"
        "from trainlab.diagnostics import drawer, plots\n"
        "drawer.start()\n"
        f"plots.write(Path({str(tmp_path / 'c.png')!r}), plots.learning_curves, {ROWS!r}, 1)\n"
        "plots.wait()\n"
        "print(drawer._drawer is None)\n"
    )
    for rank, started in (("1", False), ("0", True)):
        env = {**os.environ, "LOCAL_RANK": rank}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        assert done.stdout.split() == [str(not started)], (rank, done.stdout, done.stderr)
        assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")  # rank 1 drew it in-process, if asked
        (tmp_path / "c.png").unlink()
