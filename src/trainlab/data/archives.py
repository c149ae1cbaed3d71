"""Reading CIFAR's python-pickle batch files and unpacking its tar.gz archive, both without trusting their content.

A pickle can run any code it names, so batch files are read by an unpickler that builds numpy arrays and plain
containers only. An archive member with an absolute path, a `..` part or a link is refused before anything is
written, so a crafted archive cannot write outside the data dir.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from filelock import FileLock

from trainlab.data.idx import DataFileError

# The globals a pickled numpy array needs (numpy < 2 and ≥ 2 spell the module differently); nothing else loads.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module.startswith("numpy") and name == "_reconstruct":
            import numpy as np

            return np.ndarray.__reduce__(np.empty(0))[0]  # numpy's own _reconstruct, whatever its module is called
        return super().find_class(module, name)


def read_pickle(path: Path) -> dict[str, Any]:
    """A CIFAR batch file as a dict with str keys (`data`, `labels`, …); one-line error if it cannot be read."""
    try:
        with open(path, "rb") as f:
            content = _ArraysOnly(f, encoding="bytes").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError) as err:
        raise DataFileError(
            f"{path}: not a readable CIFAR batch file ({err}). Fix: delete it so trainlab downloads the archive again"
        ) from err
    if not isinstance(content, dict):
        raise DataFileError(f"{path}: not a CIFAR batch file (a {type(content).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in content.items()}


def unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why `member` must not be extracted (None: a plain file or folder inside the destination)."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith(("/", "\\")):
        return "an absolute path"
    if ".." in path.parts:
        return "a '..' part"
    if not (member.isfile() or member.isdir()):
        return "a link or special file"
    return None


def extract_tar(archive: Path, folder: Path, wanted: str) -> Path:
    """Extract `archive` (tar.gz) into `folder`, atomically, and return `folder / wanted`, the folder it holds.

    Every member is checked first (see `unsafe_member`); extraction goes to a temporary folder that is renamed into
    place under a file lock, so concurrent runs never see a half-extracted `wanted`.
    """
    target = folder / wanted
    with FileLock(str(folder / f".{wanted}.lock")):
        if target.is_dir():
            return target
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = tar.getmembers()
                for member in members:
                    if why := unsafe_member(member):
                        raise DataFileError(
                            f"{archive}: refused to extract member {member.name!r} ({why}, outside {folder}); "
                            "Fix: delete the archive, it is not the official one"
                        )
                with tempfile.TemporaryDirectory(dir=folder, prefix=".extract-") as tmp:
                    tar.extractall(tmp, members=members, filter="data")
                    if not (Path(tmp) / wanted).is_dir():
                        raise DataFileError(f"{archive}: has no {wanted}/ folder. Fix: delete it and download again")
                    os.replace(Path(tmp) / wanted, target)
        except (tarfile.TarError, EOFError, OSError) as err:
            shutil.rmtree(target, ignore_errors=True)
            raise DataFileError(
                f"{archive}: damaged archive ({err}). Fix: delete it so trainlab downloads it again"
            ) from err
    return target
