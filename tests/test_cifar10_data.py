"""CIFAR-10's data module: the pickle reader, checksums that name the bad file, download and safe extraction from a
local HTTP server, the 45k/5k/10k split with per-channel scaling, class names, batches on the data's device."""

from __future__ import annotations

import functools
import hashlib
import http.server
import pickle
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.config import compose_train
from helpers.fake_cifar import fake_cifar, tar_gz, write_batch
from helpers.paths import data_dir

from trainlab.config.validation import problems
from trainlab.data import CIFAR10DataModule, DataFileError, MNISTDataModule
from trainlab.data.archives import extract_tar
from trainlab.data.cifar10 import SET_SHA256, TEST_BATCHES, TRAIN_BATCHES, read_batch
from trainlab.data.files import RemoteFile


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir holding a small CIFAR look-alike (4 images per batch file), pinned in place of the real pins."""
    train, test = fake_cifar(tmp_path / "data" / "cifar10")
    monkeypatch.setattr(CIFAR10DataModule, "train_batches", train)
    monkeypatch.setattr(CIFAR10DataModule, "test_batches", test)
    return tmp_path / "data"


def module(data: Path, cache: Path, val_size: int = 5, mirrors: list[str] | None = None, **kw) -> CIFAR10DataModule:
    return CIFAR10DataModule(data, cache, val_size=val_size, mirrors=mirrors or [], **kw)


def test_pickle_reader_reads_a_generated_batch_file(tmp_path: Path) -> None:
    data = np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072).astype(np.uint8)
    write_batch(tmp_path / "b", data, [3, 7], filenames=["a.png", "b.png"])  # extra fields are ignored
    images, labels = read_batch(tmp_path / "b")
    assert images.dtype == np.uint8 and (images == data).all()
    assert labels.tolist() == [3, 7]


def test_pickle_reader_refuses_anything_but_arrays(tmp_path: Path) -> None:
    (tmp_path / "evil").write_bytes(pickle.dumps({"data": functools.partial(print, "hi")}, protocol=2))
    with pytest.raises(DataFileError, match=r"evil: not a readable CIFAR batch file \(refusing to load functools"):
        read_batch(tmp_path / "evil")


def test_local_copy_is_split_45k_5k_10k_style_with_per_channel_scaling(fake: Path, tmp_path: Path) -> None:
    dm = module(fake, tmp_path / "cache")
    dm.setup("fit")
    sizes = {k: (tuple(x.shape), x.dtype, len(y)) for k, (x, y) in dm.splits.items()}
    assert sizes == {
        "train": ((15, 3, 32, 32), torch.uint8, 15),
        "val": ((5, 3, 32, 32), torch.uint8, 5),
        "test": ((4, 3, 32, 32), torch.uint8, 4),
    }
    # Row i of a batch file is channel-major: 1024 R, 1024 G, 1024 B values.
    first, _ = read_batch(fake / "cifar10" / "cifar-10-batches-py" / "test_batch")
    assert torch.equal(dm.splits["test"][0][0, 1].flatten(), torch.from_numpy(first[0, 1024:2048]))
    x = dm.scale_inputs(dm.splits["train"][0]).double()
    assert torch.allclose(x.mean((0, 2, 3)), torch.zeros(3, dtype=torch.double), atol=1e-5)
    assert torch.allclose(x.std((0, 2, 3)), torch.ones(3, dtype=torch.double), atol=1e-4)
    assert dm.scale.shape == (3,) and len(set(dm.scale.tolist())) == 3  # one statistic per channel


def test_checksum_failure_names_the_file(fake: Path, tmp_path: Path) -> None:
    path = fake / "cifar10" / "cifar-10-batches-py" / "data_batch_3"
    images, labels = read_batch(path)
    images[0, 0] ^= 1
    write_batch(path, images, labels.tolist())
    with pytest.raises(DataFileError, match=r"data_batch_3 \(pixels\): checksum mismatch \(sha256 expected"):
        module(fake, tmp_path / "cache").setup()


def test_an_incomplete_local_copy_names_the_missing_files(fake: Path, tmp_path: Path) -> None:
    (fake / "cifar10" / "cifar-10-batches-py" / "data_batch_2").unlink()
    with pytest.raises(DataFileError, match=r"cifar-10-batches-py lacks data_batch_2\. Fix: delete that folder"):
        module(fake, tmp_path / "cache").setup()


def test_classes_are_named() -> None:
    assert CIFAR10DataModule.classes[:3] == ("airplane", "automobile", "bird") and len(CIFAR10DataModule.classes) == 10
    assert MNISTDataModule.classes == tuple(str(d) for d in range(10))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving the folder `<tmp>/site`: (base URL, folder)."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", site
    server.shutdown()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_downloads_and_extracts_the_archive(fake: Path, tmp_path: Path, served, monkeypatch) -> None:
    url, site = served
    md5 = tar_gz(site / "cifar-10-python.tar.gz", fake / "cifar10" / "cifar-10-batches-py")
    monkeypatch.setattr(CIFAR10DataModule, "archive", RemoteFile("cifar-10-python.tar.gz", md5=md5, sha256=""))
    empty = tmp_path / "empty"
    dm = module(empty, tmp_path / "cache", mirrors=[url])
    dm.setup()
    assert (empty / "cifar10" / "cifar-10-python.tar.gz").is_file()
    assert (empty / "cifar10" / "cifar-10-batches-py" / "test_batch").is_file()
    assert len(dm.splits["train"][1]) == 15


def test_archive_with_a_parent_path_member_is_refused(fake: Path, tmp_path: Path, served, monkeypatch) -> None:
    url, site = served
    evil = {"cifar-10-batches-py/../../escaped.txt": b"owned"}
    md5 = tar_gz(site / "cifar-10-python.tar.gz", fake / "cifar10" / "cifar-10-batches-py", extra=evil)
    monkeypatch.setattr(CIFAR10DataModule, "archive", RemoteFile("cifar-10-python.tar.gz", md5=md5, sha256=""))
    empty = tmp_path / "empty"
    with pytest.raises(DataFileError) as err:
        module(empty, tmp_path / "cache", mirrors=[url]).setup()
    message = str(err.value)
    assert "\n" not in message and "refused to extract member 'cifar-10-batches-py/../../escaped.txt'" in message
    assert not (tmp_path / "escaped.txt").exists() and not (empty / "escaped.txt").exists()
    assert not (empty / "cifar10" / "cifar-10-batches-py").exists()  # nothing extracted


def test_archive_with_an_absolute_member_is_refused(tmp_path: Path) -> None:
    tar_gz(tmp_path / "a.tar.gz", None, extra={"/tmp/escaped.txt": b"owned"})
    with pytest.raises(DataFileError, match=r"refused to extract member '/tmp/escaped.txt' \(an absolute path"):
        extract_tar(tmp_path / "a.tar.gz", tmp_path, "cifar-10-batches-py")


def test_batches_come_on_the_datas_device(fake: Path, tmp_path: Path) -> None:
    dm = module(fake, tmp_path / "cache", batch_size=6)
    dm.setup()
    x, y = next(iter(dm.train_dataloader()))
    assert x.device == dm.splits["train"][0].device == torch.device("cpu")
    assert x.dtype == torch.float32 and tuple(x.shape) == (6, 3, 32, 32) and y.device == x.device


def test_real_pins_add_up_to_the_published_whole_set_pins() -> None:
    """The per-file pins are checked against the whole-set SHA-256s published with the data."""
    folder = data_dir() / "cifar10" / "cifar-10-batches-py"
    if not folder.is_dir():
        pytest.skip(f"no CIFAR-10 copy under {folder}")
    train = [read_batch(folder / name) for name in TRAIN_BATCHES]
    test_images, test_labels = read_batch(folder / next(iter(TEST_BATCHES)))
    digest = {
        "train_data": np.concatenate([x for x, _ in train]),
        "train_labels": np.concatenate([y for _, y in train]),
        "test_data": test_images,
        "test_labels": test_labels,
    }
    assert {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in digest.items()} == SET_SHA256


def test_val_size_is_checked_against_cifars_50k() -> None:
    found = problems(compose_train(["data=cifar10", "data.val_size=50000"]))
    assert found == ["data.val_size=50000 is out of range: must be an integer in [0, 50000)"]
