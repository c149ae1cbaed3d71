"""Fixtures shared by every test module, and two session-wide rules: tests marked `gpu` run only where CUDA is
available, and nothing the tests run may write into the repo tree. Shared code lives in `helpers/`.

With pytest-xdist (`pytest -n 2`, as the README runs the suites) each worker keeps to its share of the cores."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import repo_files, runner
from helpers.paths import data_dir
from helpers.training import train_in_process


def pytest_configure(config: pytest.Config) -> None:
    """An xdist worker runs on its share of the cores (worker i of n: every n-th core from the i-th), and so do the
    runs it starts: trainlab gives a run as many torch threads as its process may use cores. Without this, two
    workers' runs would each start one thread per core and keep stealing the cores from each other."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    if count > len(cores):
        return
    share = cores[int(worker.removeprefix("gw")) :: count]
    os.sched_setaffinity(0, share)
    import torch

    torch.set_num_threads(len(share))  # torch sized its thread pool from the cores it saw at import


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked `gpu`, with the reason, where torch sees no CUDA device."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU: torch.cuda.is_available() is False here")
    for item in gpu_tests:
        item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def repo_left_clean() -> Iterator[None]:
    """Fail the session if its runs left new or changed files in the repo tree (untracked or ignored ones:
    data caches, logs, run dirs). Everything a test runs writes under tmp_path or the session's cache_dir."""
    before = repo_files.snapshot()
    yield
    if before is None:  # not a git checkout: nothing to compare with
        return
    written = repo_files.written(before, repo_files.snapshot() or {})
    assert not written, f"the tests wrote into the repo tree (use tmp_path): {written[:20]}"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    folder = data_dir()
    if not (folder / "mnist").is_dir():
        pytest.fail(f"no MNIST files under {folder}: set TRAINLAB_DATA_DIR to a folder with mnist/")
    return folder


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The decoded-tensor cache (`paths.cache_dir`) of every run in the session: MNIST is decoded once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def run_entry(tmp_path: Path, mnist_dir: Path, cache_dir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `src/<script>.py` with overrides in a subprocess, its run dir under tmp_path (`<tmp>/run`) and the
    session's cache dir (unless the overrides set `paths.cache_dir`)."""

    def run(
        script: str, *overrides: str, run_dir: Path | None = None, timeout: float = 600, env: dict | None = None
    ) -> subprocess.CompletedProcess[str]:
        if not any(o.startswith("paths.cache_dir=") for o in overrides):
            overrides = (*overrides, f"paths.cache_dir={cache_dir}")
        cmd = runner.command(script, overrides, run_dir=run_dir or tmp_path / "run")
        return runner.run(cmd, env={"TRAINLAB_DATA_DIR": str(mnist_dir), **(env or {})}, timeout=timeout)

    return run


@pytest.fixture
def train_run(tmp_path: Path, mnist_dir: Path, cache_dir: Path) -> Callable[..., dict[str, Any]]:
    """Train in-process as `python src/train.py overrides…` would (see `helpers.training`), in `<tmp>/run` unless
    `run_dir` is given; returns the run's metrics."""

    def train(*overrides: str, run_dir: Path | None = None) -> dict[str, Any]:
        return train_in_process(overrides, run_dir or tmp_path / "run", cache_dir)

    return train
