"""Start-up: `import lightning` (through torchmetrics) no longer loads scipy.signal or matplotlib, which no default
run uses in the training process, and the stand-ins still give SciPy's functions, torchmetrics' `hamming` alias and
`Metric.plot` to whoever asks."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("scipy")  # installed with scikit-learn; without it there is nothing to defer


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[str]]:
    """The modules loaded by `import lightning`, after `import trainlab` (the stand-ins) and without it."""
    code = "import sys; before = set(sys.modules); import lightning; print(' '.join(sorted(set(sys.modules) - before)))"
    return {
        "with trainlab": run_python(f"import trainlab\n{code}").split(),
        "without": run_python(code).split(),
    }


def test_importing_lightning_after_trainlab_leaves_scipy_signal_unloaded(loaded: dict[str, list[str]]) -> None:
    assert not [m for m in loaded["with trainlab"] if m.startswith("scipy.signal.")]
    # Without the stand-in torchmetrics loads the whole package: the thing the stand-in saves.
    assert "scipy.signal._signaltools" in loaded["without"]


def test_the_stand_in_loads_scipy_signal_on_first_use() -> None:
    code = (
        "import trainlab, lightning, inspect\n"
        "import scipy.signal\n"
        "from scipy.signal import convolve\n"
        "print(convolve([1, 2], [1, 1]).tolist(), scipy.signal.hamming(3).round(2).tolist(), end=' ')\n"
        "print(inspect.getmodule(convolve).__name__)"
    )
    assert run_python(code) == "[1, 3, 2] [0.08, 1.0, 0.08] scipy.signal._signaltools"


def test_importing_lightning_after_trainlab_leaves_matplotlib_unloaded_and_metric_plot_works(
    loaded: dict[str, list[str]],
) -> None:
    pytest.importorskip("matplotlib")
    assert not [m for m in loaded["with trainlab"] if m.startswith("matplotlib")]
    assert "matplotlib.pyplot" in loaded["without"]  # what torchmetrics imports for Metric.plot
    code = (
        "import trainlab, torch, torchmetrics\n"
        "metric = torchmetrics.classification.MulticlassConfusionMatrix(num_classes=3)\n"
        "metric.update(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 1]))\n"
        "figure, ax = metric.plot()\n"
        "print(type(figure).__name__, len(ax.texts))"
    )
    assert run_python(code) == "Figure 9"  # the real plotting function, loaded on first use
