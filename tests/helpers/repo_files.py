"""What a test run may have written into the repo tree: the untracked and ignored files git reports, with their
modification times and sizes, compared before and after the session (see the `repo_left_clean` fixture)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from helpers.paths import REPO

# Written by the tools themselves, not by what a test runs.
EXEMPT = {".venv", ".pytest_cache", "__pycache__", ".ruff_cache"}

Snapshot = dict[str, tuple[int, int]]


def snapshot(repo: Path = REPO) -> Snapshot | None:
    """Every untracked or ignored file (outside EXEMPT and virtual environments) with (mtime, size); None where
    git or the checkout is missing (an unpacked source archive), so there is nothing to compare."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "-z"], cwd=repo, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    files: Snapshot = {}
    for entry in done.stdout.split("\0"):
        if entry[:3] in ("?? ", "!! "):
            for path in walk(repo / entry[3:]):
                stat = path.lstat()
                files[str(path.relative_to(repo))] = (stat.st_mtime_ns, stat.st_size)
    return files


def walk(path: Path) -> list[Path]:
    if EXEMPT & set(path.parts) or (path / "pyvenv.cfg").is_file():
        return []
    if not path.is_dir() or path.is_symlink():
        return [path] if path.exists() or path.is_symlink() else []
    found = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d not in EXEMPT and not (Path(folder, d) / "pyvenv.cfg").is_file()]
        found += [Path(folder, name) for name in names]
    return found


def written(before: Snapshot, after: Snapshot) -> list[str]:
    """Files that are new or changed since `before`."""
    return sorted(name for name, stat in after.items() if before.get(name) != stat)
