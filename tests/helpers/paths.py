"""Where the repo, its configs and the real MNIST files are."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"
TESTS = REPO / "tests"


def data_dir() -> Path:
    """TRAINLAB_DATA_DIR when set (CI points it at ../shared/data), else the shared copy beside the checkout."""
    return Path(os.environ.get("TRAINLAB_DATA_DIR", REPO.parent / "shared" / "data")).resolve()
