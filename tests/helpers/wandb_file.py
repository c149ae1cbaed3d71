"""Read an offline W&B run (`<run dir>/wandb/offline-run-*/run-<id>.wandb`) without a server or an account.

The file is a LevelDB-style log: a 7-byte header (`:W&B`, magic 0xBEE1, version), then 32 KiB blocks of chunks,
each `crc32 (uint32) | length (uint16) | type (uint8) | data`, where type says whether the chunk is a FULL record
or the FIRST/MIDDLE/LAST piece of one; a block's tail shorter than a chunk header is padding. Each record is a
serialized `wandb.proto.wandb_internal_pb2.Record` (the run, config updates, history rows, the summary, …).
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADER = struct.Struct("<4sHB")  # ident, magic, version
CHUNK = struct.Struct("<IHB")  # crc32 of (type byte + data), data length, type
BLOCK_LEN = 32768
IDENT, MAGIC = b":W&B", 0xBEE1
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def raw_records(path: str | Path) -> Iterator[bytes]:
    """The serialized records of a `.wandb` file, in order (checksums verified)."""
    data = Path(path).read_bytes()
    ident, magic, _version = HEADER.unpack_from(data, 0)
    if ident != IDENT or magic != MAGIC:
        raise ValueError(f"{path}: not a .wandb file (header {data[:7]!r})")
    pos, pending = HEADER.size, b""
    while pos + CHUNK.size <= len(data):
        left = BLOCK_LEN - pos % BLOCK_LEN
        if left < CHUNK.size:  # block trailer: padding
            pos += left
            continue
        crc, length, kind = CHUNK.unpack_from(data, pos)
        if kind == 0 and length == 0:  # zero fill at the end of a block (or of a file still being written)
            pos += left
            continue
        start = pos + CHUNK.size
        chunk = data[start : start + length]
        if len(chunk) < length:  # a record cut off by a crash: stop at the last whole one
            return
        if zlib.crc32(bytes([kind]) + chunk) != crc:
            raise ValueError(f"{path}: bad checksum at byte {pos}")
        pos = start + length
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            pending = chunk
        elif kind == MIDDLE:
            pending += chunk
        elif kind == LAST:
            yield pending + chunk
            pending = b""
        else:
            raise ValueError(f"{path}: unknown chunk type {kind} at byte {pos}")


def records(path: str | Path) -> Iterator[Any]:
    """The `Record` protobufs of a `.wandb` file."""
    from wandb.proto import wandb_internal_pb2

    for raw in raw_records(path):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(raw)
        yield record


def _items(items: Any) -> dict[str, Any]:
    """Config/summary/history items (`key` or `nested_key` + `value_json`) as a nested dict."""
    out: dict[str, Any] = {}
    for item in items:
        keys = list(item.nested_key) or [item.key]
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = json.loads(item.value_json)
    return out


@dataclass
class OfflineRun:
    """What an offline run recorded: its identity, config (W&B's `{"value": …}` wrappers removed), history."""

    run_id: str = ""
    project: str = ""
    name: str = ""
    group: str = ""
    job_type: str = ""
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    record_types: dict[str, int] = field(default_factory=dict)

    def metric(self, key: str) -> list[Any]:
        """Every logged value of one metric, in order."""
        return [row[key] for row in self.history if key in row]


def _unwrap(config: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.get("value") if isinstance(v, dict) and set(v) <= {"value", "desc"} else v) for k, v in config.items()
    }


def read_run(path: str | Path) -> OfflineRun:
    """Fold a `.wandb` file's records into one `OfflineRun`."""
    run = OfflineRun()
    for record in records(path):
        kind = record.WhichOneof("record_type")
        run.record_types[kind] = run.record_types.get(kind, 0) + 1
        if kind == "run":
            r = record.run
            run.run_id, run.project, run.name = r.run_id, r.project, r.display_name
            run.group, run.job_type, run.notes, run.tags = r.run_group, r.job_type, r.notes, list(r.tags)
            run.config.update(_unwrap(_items(r.config.update)))
        elif kind == "config":
            run.config.update(_unwrap(_items(record.config.update)))
        elif kind == "history":
            run.history.append(_items(record.history.item))
        elif kind == "summary":
            run.summary.update(_items(record.summary.update))
    return run


def run_files(run_dir: str | Path) -> list[Path]:
    """The `.wandb` files under a trainlab run dir, oldest first (a resumed run adds one per session)."""
    return sorted(Path(run_dir).glob("wandb/*run-*/run-*.wandb"), key=lambda p: p.parent.name.split("-")[-2])
