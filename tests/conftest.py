"""Shared fixtures: the real data dir, composing configs in-process, and running the entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"


def data_dir() -> Path:
    """TRAINLAB_DATA_DIR when set (CI points it at ../shared/data), else the shared copy beside the checkout."""
    return Path(os.environ.get("TRAINLAB_DATA_DIR", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    folder = data_dir()
    if not (folder / "mnist").is_dir():
        pytest.fail(f"no MNIST files under {folder}: set TRAINLAB_DATA_DIR to a folder with mnist/")
    return folder


def compose_train(overrides: list[str] | None = None, output_dir: Path | None = None) -> DictConfig:
    """The composed `train` config with paths made concrete (no Hydra run needed)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=overrides or [], return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.root_dir = str(REPO)
        cfg.paths.output_dir = str(output_dir or REPO / "logs" / "pytest")
        del cfg.hydra
    return cfg


@pytest.fixture
def run_entry(tmp_path: Path, mnist_dir: Path) -> Callable[..., subprocess.CompletedProcess]:
    """Run `src/<script>.py` with overrides in a subprocess, its run dir under tmp_path (`<tmp>/run`)."""

    def run(script: str, *overrides: str, run_dir: Path | None = None, timeout: float = 600, env: dict | None = None):
        run_dir = run_dir or tmp_path / "run"
        flags = [o for o in overrides if o.startswith("-")]  # e.g. -m: argparse wants flags before overrides
        rest = [o for o in overrides if not o.startswith("-")]
        cmd = [sys.executable, str(REPO / "src" / f"{script}.py"), *flags, f"hydra.run.dir={run_dir}", *rest]
        full_env = {**os.environ, "TRAINLAB_DATA_DIR": str(mnist_dir), **(env or {})}
        return subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)

    return run


def read_metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


# Fast settings for end-to-end runs: a slice of each split, one epoch, no config printout.
QUICK = [
    "trainer.max_epochs=1",
    "++trainer.limit_train_batches=20",
    "++trainer.limit_val_batches=2",
    "++trainer.limit_test_batches=2",
    "print_config=false",
]
