"""Reader for the IDX format MNIST ships in (http://yann.lecun.com/exdb/mnist/, bottom of the page).

An IDX file is a 4-byte magic number (two zero bytes, a dtype code, the number of dimensions), one big-endian
uint32 per dimension, then the values in C order. MNIST uses only unsigned bytes (code 0x08).
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import torch

from trainlab.config.errors import UserError


class DataFileError(UserError):
    """A data file is missing, truncated or does not match its pinned checksum."""


_UBYTE = 0x08


def read_idx_bytes(path: Path) -> bytes:
    """Return the uncompressed IDX content of `path` (gzip-compressed or not)."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise DataFileError(f"{path}: cannot be read ({err}). Delete it so trainlab downloads it again.") from err


def parse_idx(content: bytes, name: str = "IDX data") -> torch.Tensor:
    """Decode IDX bytes into a uint8 tensor of the stored shape."""
    if len(content) < 4 or content[:2] != b"\x00\x00":
        raise DataFileError(f"{name}: not an IDX file (bad magic number)")
    dtype_code, ndim = content[2], content[3]
    if dtype_code != _UBYTE:
        raise DataFileError(f"{name}: IDX dtype 0x{dtype_code:02x} is not supported (only unsigned bytes)")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", content[4:header])
    expected = header + int(torch.Size(shape).numel())
    if len(content) != expected:
        raise DataFileError(f"{name}: {len(content)} bytes, but its header announces {expected} (truncated?)")
    data = torch.frombuffer(bytearray(content[header:]), dtype=torch.uint8)
    return data.reshape(shape)


def idx_header(shape: Sequence[int]) -> bytes:
    """The IDX header of a uint8 array of `shape`: magic number (0, 0, dtype, ndim), then each size, big-endian."""
    return bytes([0, 0, _UBYTE, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def idx_sha256(array: torch.Tensor) -> str:
    """SHA-256 of the IDX file that holds uint8 `array`: lets a cached tensor be checked against the file pins."""
    digest = hashlib.sha256(idx_header(array.shape))
    digest.update(array.contiguous().numpy().data)
    return digest.hexdigest()


def write_idx(path: Path, array: torch.Tensor, compress: bool = True) -> None:
    """Write a uint8 tensor as an IDX file; tests use it to make small fake data sets."""
    array = array.to(torch.uint8).contiguous()
    content = idx_header(array.shape) + array.numpy().tobytes()
    path.write_bytes(gzip.compress(content, mtime=0) if compress else content)
