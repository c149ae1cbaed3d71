"""The IDX reader, checksum checks, the decoded-tensor cache and downloads from a local HTTP server."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from helpers.fake_data import fake_mnist

from trainlab.data import DataFileError, MNISTDataModule
from trainlab.data.files import RemoteFile
from trainlab.data.idx import parse_idx, read_idx_bytes, write_idx


def test_idx_round_trip(tmp_path: Path) -> None:
    images = torch.randint(0, 256, (7, 28, 28), dtype=torch.uint8)
    write_idx(tmp_path / "x.gz", images)
    write_idx(tmp_path / "x.idx", images, compress=False)
    for name in ("x.gz", "x.idx"):
        assert torch.equal(parse_idx(read_idx_bytes(tmp_path / name)), images)


def test_idx_rejects_truncated_and_foreign_files(tmp_path: Path) -> None:
    labels = torch.arange(10, dtype=torch.uint8)
    write_idx(tmp_path / "y.idx", labels, compress=False)
    content = (tmp_path / "y.idx").read_bytes()
    with pytest.raises(DataFileError, match="truncated"):
        parse_idx(content[:-3], "y.idx")
    with pytest.raises(DataFileError, match="magic"):
        parse_idx(b"PK\x03\x04" + content[4:], "y.idx")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(content)[:-10])
    with pytest.raises(DataFileError, match=r"bad\.gz"):
        read_idx_bytes(tmp_path / "bad.gz")


@pytest.fixture
def fake_pins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, RemoteFile]:
    pins = fake_mnist(tmp_path / "served")
    monkeypatch.setattr(MNISTDataModule, "files", pins)
    return pins


def test_fake_files_load_split_and_cache(tmp_path: Path, fake_pins) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "served").rename(tmp_path / "data" / "mnist")
    dm = MNISTDataModule(tmp_path / "data", tmp_path / "cache", val_size=10, mirrors=[])
    dm.setup()
    assert [len(dm.splits[s][1]) for s in ("train", "val", "test")] == [50, 10, 20]
    assert list(dm.splits["train"][0].shape[1:]) == [1, 28, 28]
    assert len(list((tmp_path / "cache").glob("mnist-*.pt"))) == 1


def test_checksum_mismatch_names_the_file_and_both_hashes(tmp_path: Path, fake_pins) -> None:
    folder = tmp_path / "data" / "mnist"
    folder.parent.mkdir()
    (tmp_path / "served").rename(folder)
    path = folder / "t10k-labels-idx1-ubyte.gz"
    labels = torch.arange(20, dtype=torch.uint8) % 10
    labels[3] = 9  # one changed label
    write_idx(path, labels)
    with pytest.raises(DataFileError) as err:
        MNISTDataModule(tmp_path / "data", tmp_path / "cache", val_size=10, mirrors=[]).setup()
    message = str(err.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and fake_pins["test_labels"].sha256 in message
    assert hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() in message
    assert "delete" in message


def test_damaged_cache_is_rebuilt(tmp_path: Path, fake_pins) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "served").rename(tmp_path / "data" / "mnist")
    dm = MNISTDataModule(tmp_path / "data", tmp_path / "cache", val_size=10, mirrors=[])
    good = dm.load()
    (cache,) = (tmp_path / "cache").glob("mnist-*.pt")
    tensors = torch.load(cache, weights_only=True)
    tensors["train_labels"][0] += 1
    torch.save(tensors, cache)
    again = dm.load()
    assert torch.equal(again["train_labels"], good["train_labels"])


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """Serve tmp_path over HTTP on 127.0.0.1 (an ephemeral port); yields the base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_tries_mirrors_in_order(tmp_path: Path, fake_pins, http_server: str) -> None:
    mirrors = [f"{http_server}/missing/", f"{http_server}/served/"]
    dm = MNISTDataModule(tmp_path / "fresh", tmp_path / "cache", val_size=10, mirrors=mirrors)
    dm.setup()
    for file in fake_pins.values():
        assert (tmp_path / "fresh" / "mnist" / file.name).read_bytes() == (tmp_path / "served" / file.name).read_bytes()
    assert len(dm.splits["test"][1]) == 20


def test_download_with_wrong_archive_hash_fails_clearly(
    tmp_path: Path, fake_pins, http_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = dict(fake_pins)
    broken["train_labels"] = RemoteFile(fake_pins["train_labels"].name, md5="0" * 32, sha256="0" * 64)
    monkeypatch.setattr(MNISTDataModule, "files", broken)
    dm = MNISTDataModule(tmp_path / "fresh", tmp_path / "cache", val_size=10, mirrors=[f"{http_server}/served/"])
    with pytest.raises(DataFileError, match=r"train-labels-idx1-ubyte\.gz.*TRAINLAB_DATA_DIR"):
        dm.setup()
    assert not (tmp_path / "fresh" / "mnist" / "train-labels-idx1-ubyte.gz").exists()


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path, fake_pins) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    dm = MNISTDataModule(blocker / "data", tmp_path / "cache", mirrors=["http://127.0.0.1:9/"])
    with pytest.raises(DataFileError, match="TRAINLAB_DATA_DIR"):
        dm.setup()


def test_real_mnist_matches_its_published_figures(mnist_dir: Path, tmp_path: Path) -> None:
    dm = MNISTDataModule(mnist_dir, tmp_path / "cache", val_size=5000, mirrors=[])
    data = dm.load()
    assert torch.bincount(data["train_labels"]).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert torch.bincount(data["test_labels"]).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert data["train_images"].double().mean().item() / 255 == pytest.approx(0.130660, abs=1e-6)
