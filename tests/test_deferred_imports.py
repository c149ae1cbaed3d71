"""Start-up: `import lightning` (through torchmetrics) no longer loads scipy.signal, which no default run uses, and
the stand-in still gives SciPy's functions and torchmetrics' `hamming` alias to whoever asks."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("scipy")  # installed with scikit-learn; without it there is nothing to defer


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_importing_lightning_after_trainlab_leaves_scipy_signal_unloaded() -> None:
    code = "import trainlab, lightning, sys; print(sorted(m for m in sys.modules if m.startswith('scipy.signal.')))"
    assert run_python(code) == "[]"
    # Without the stand-in torchmetrics loads the whole package: the thing the stand-in saves.
    assert "scipy.signal._signaltools" in run_python("import lightning, sys; print(list(sys.modules))")


def test_the_stand_in_loads_scipy_signal_on_first_use() -> None:
    code = (
        "import trainlab, lightning, inspect\n"
        "import scipy.signal\n"
        "from scipy.signal import convolve\n"
        "print(convolve([1, 2], [1, 1]).tolist(), scipy.signal.hamming(3).round(2).tolist(), end=' ')\n"
        "print(inspect.getmodule(convolve).__name__)"
    )
    assert run_python(code) == "[1, 3, 2] [0.08, 1.0, 0.08] scipy.signal._signaltools"
