"""Getting data files onto disk and decoded tensors into a cache, safely and only once.

Downloads go through pooch (checksum, atomic move, progress bar), mirror after mirror. A file lock makes
concurrent runs on one data dir wait for each other instead of downloading twice or reading half a file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pooch
import torch
from filelock import FileLock

from trainlab.data.idx import DataFileError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteFile:
    """A file the mirrors serve, with the checksums that prove it is the real one."""

    name: str
    md5: str  # of the file exactly as the official mirrors serve it
    sha256: str  # of the decoded content: what local copies are checked against (they may be recompressed)


def _writable_dir(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataFileError(f"cannot create the data dir {folder} ({err.strerror}); set TRAINLAB_DATA_DIR") from err
    if not os.access(folder, os.W_OK):
        raise DataFileError(f"the data dir {folder} is not writable; set TRAINLAB_DATA_DIR to a writable folder")
    return folder


def fetch(file: RemoteFile, folder: Path, mirrors: Sequence[str]) -> Path:
    """Return the local path of `file`, downloading it from the first mirror that has it."""
    path = folder / file.name
    if path.exists():
        return path
    _writable_dir(folder)
    with FileLock(str(folder / f".{file.name}.lock")):
        if path.exists():  # another process finished the download while we waited
            return path
        tried = []
        for mirror in mirrors:
            url = f"{mirror.rstrip('/')}/{file.name}"
            try:
                got = pooch.retrieve(url, known_hash=f"md5:{file.md5}", fname=file.name, path=folder, progressbar=True)
                return Path(got)
            except Exception as err:
                log.warning("download failed: %s (%s)", url, err)
                tried.append(f"{url} ({download_failure(err)})")
    raise DataFileError(
        f"{path} is missing and no mirror served it; tried to download: {', '.join(tried) or 'nothing (no mirrors)'}. "
        "Fix: connect to the internet (or set data.mirrors=[<base URL>,…]), or set TRAINLAB_DATA_DIR to a folder "
        f"that already holds {folder.name}/{file.name}"
    )


def download_failure(err: Exception) -> str:
    """Why one download failed, in a few words: the checksums for a damaged download, else the error's type."""
    found = re.search(r"expected (\w+), got (\w+)", str(err))
    if isinstance(err, ValueError) and found:
        return f"damaged download: md5 expected {found.group(1)}, got {found.group(2)}"
    return type(err).__name__


def read_pinned(path: Path, file: RemoteFile, read: Callable[[Path], bytes]) -> bytes:
    """The uncompressed content of the local copy `path` of `file`, checked against its pins.

    A truncated or damaged archive, or content that does not match, is refused with the file's name, the
    expected and actual hashes, and the fix.
    """
    fix = f"delete {path} so trainlab downloads it again, or copy an intact {file.name} there"
    try:
        content = read(path)
    except DataFileError as err:
        actual = hashlib.md5(path.read_bytes()).hexdigest() if path.is_file() else "unreadable"
        raise DataFileError(
            f"{path}: damaged or truncated archive ({err.__cause__ or err}); md5 expected {file.md5} "
            f"(the official archive), got {actual}. Fix: {fix}"
        ) from err
    check_sha256(str(path), content, file.sha256, fix=fix)
    return content


def check_sha256(name: str, content: bytes | memoryview, expected: str, fix: str) -> None:
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise DataFileError(f"{name}: checksum mismatch (sha256 expected {expected}, got {actual}). Fix: {fix}")


def cached_tensors(
    cache_file: Path, build: Callable[[], dict[str, torch.Tensor]], verify: Callable[[dict[str, torch.Tensor]], None]
) -> dict[str, torch.Tensor]:
    """Load decoded tensors from `cache_file`, or build, verify and save them there atomically.

    A cache that fails `verify` (or cannot be read) is rebuilt, so a damaged cache never reaches training.
    """
    if cache_file.exists():
        try:
            tensors = torch.load(cache_file, weights_only=True)
            verify(tensors)
            return tensors
        except Exception as err:
            log.warning("cache %s is damaged (%s); rebuilding it", cache_file, err)
    tensors = build()
    verify(tensors)
    try:
        _writable_dir(cache_file.parent)
        with FileLock(str(cache_file) + ".lock"):
            fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
            os.close(fd)
            torch.save(tensors, tmp)
            os.replace(tmp, cache_file)
    except (OSError, DataFileError) as err:
        log.warning("could not write the cache %s (%s); later runs will decode again", cache_file, err)
    return tensors
