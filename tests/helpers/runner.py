"""The one way tests start a process: an entry point (`src/<script>.py`) or `python -c`, from the repo root.

Kept for what only a process shows: exit codes, the lines on stderr, signals, what is imported before an error,
the default paths. Tests that only need a run's metrics train in-process instead (`helpers.training`).

The environment is the test's own minus HYDRA_FULL_ERROR (it would turn one-line errors into tracebacks), plus
`tests/` on PYTHONPATH (so `+callbacks.x._target_=helpers.probes.<Callback>` resolves) and the caller's `env`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from helpers.paths import REPO, TESTS


def environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    pythonpath = os.pathsep.join(p for p in (str(TESTS), base.get("PYTHONPATH", "")) if p)
    return {**base, "PYTHONPATH": pythonpath, **(env or {})}


def command(
    script: str, overrides: Sequence[str] = (), run_dir: Path | None = None, src: Path | None = None
) -> list[str]:
    """`python <src>/<script>.py [flags] [hydra.run.dir=<run_dir>] overrides…`; flags such as `-m` go first
    (argparse wants them before the overrides). Without `run_dir` the entry point picks its default run dir."""
    flags = [o for o in overrides if o.startswith("-")]
    rest = [o for o in overrides if not o.startswith("-")]
    where = [f"hydra.run.dir={run_dir}"] if run_dir is not None else []
    return [sys.executable, str((src or REPO / "src") / f"{script}.py"), *flags, *where, *rest]


def python_code(code: str, *args: str) -> list[str]:
    """`python -c <code> args…`."""
    return [sys.executable, "-c", code, *args]


def run(
    cmd: list[str], env: Mapping[str, str] | None = None, cwd: Path = REPO, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run `cmd` to its end; stdout and stderr captured as text."""
    return subprocess.run(cmd, cwd=cwd, env=environment(env), capture_output=True, text=True, timeout=timeout)


def start(cmd: list[str], env: Mapping[str, str] | None = None, cwd: Path = REPO) -> subprocess.Popen[str]:
    """Start `cmd` without waiting (to signal it, or to run two at once); stdout and stderr are pipes."""
    return subprocess.Popen(
        cmd, cwd=cwd, env=environment(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
