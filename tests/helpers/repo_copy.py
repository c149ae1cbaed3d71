"""Run an entry point as a user types it: from a temporary copy of the repo, with its default paths.

Nothing a test runs this way writes into the repo tree: run dirs, sweeps and the data cache land in the copy
(`<copy>/logs/…`, `<copy>/data/cache`); MNIST is read from the shared data dir (TRAINLAB_DATA_DIR), as the README
tells a user with a copy of the data to do.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import runner

REPO = Path(__file__).resolve().parents[2]
# What a command needs from the checkout; `python src/train.py` puts the copy's src/ first on sys.path, so the copy's
# trainlab is the one that runs.
COPIED = ("src", "conf", "pyproject.toml", "README.md")


def copy_repo(dest: Path) -> Path:
    """Copy the parts of the checkout a command needs to `dest` (made if missing) and return it."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    return dest


def run_typed(
    command: str | list[str], cwd: Path, data_dir: Path, timeout: float = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `command` (as typed in a shell: `python src/train.py …`) in `cwd` with this interpreter as `python`."""
    argv = shlex.split(command, comments=True) if isinstance(command, str) else list(command)
    if argv and argv[0] == "python":
        argv[0] = sys.executable
    return runner.run(argv, env={"TRAINLAB_DATA_DIR": str(data_dir), **(env or {})}, cwd=cwd, timeout=timeout)
