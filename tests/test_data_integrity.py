"""Damaged or missing data files: a truncated archive, a corrupted cache, missing files, an unwritable data dir."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import pytest
import torch
from helpers.fake_data import fake_mnist

from trainlab.data import DataFileError, MNISTDataModule
from trainlab.data.mnist import FILES


@pytest.fixture
def fake_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny MNIST look-alike under <tmp>/data/mnist, with its pins in place of the real ones."""
    pins = fake_mnist(tmp_path / "data" / "mnist")
    monkeypatch.setattr(MNISTDataModule, "files", pins)
    return tmp_path / "data"


def module(data_dir: Path, tmp_path: Path) -> MNISTDataModule:
    return MNISTDataModule(data_dir, tmp_path / "cache", val_size=10, mirrors=[])


def test_truncated_archive_names_the_file_both_hashes_and_the_fix(fake_data: Path, tmp_path: Path) -> None:
    path = fake_data / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFileError) as err:
        module(fake_data, tmp_path).setup()
    message = str(err.value)
    assert str(path) in message and "truncated" in message
    assert MNISTDataModule.files["train_images"].md5 in message
    assert hashlib.md5(path.read_bytes()).hexdigest() in message
    assert "Fix: delete" in message


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupted_cache_is_detected_and_rebuilt(
    fake_data: Path, tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = module(fake_data, tmp_path).load()
    (cache,) = (tmp_path / "cache").glob("mnist-*.pt")
    content = cache.read_bytes()
    cache.write_bytes(
        {"truncate": content[: len(content) // 2], "garbage": b"not a torch file at all", "empty": b""}[damage]
    )
    with caplog.at_level(logging.WARNING, logger="trainlab.data.files"):
        again = module(fake_data, tmp_path).load()
    assert any(str(cache) in r.getMessage() and "damaged" in r.getMessage() for r in caplog.records)
    assert all(torch.equal(again[k], good[k]) for k in good)
    assert torch.load(cache, weights_only=True)["test_labels"].equal(good["test_labels"])  # written again, intact


def test_missing_files_say_where_it_looked_what_it_tried_and_both_fixes(fake_data: Path, tmp_path: Path) -> None:
    (fake_data / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    mirror = "http://127.0.0.1:9/mnist/"  # the discard port: nothing listens there
    dm = MNISTDataModule(fake_data, tmp_path / "cache", val_size=10, mirrors=[mirror])
    with pytest.raises(DataFileError) as err:
        dm.setup()
    message = str(err.value)
    assert str(fake_data / "mnist" / "t10k-labels-idx1-ubyte.gz") in message
    assert f"{mirror}t10k-labels-idx1-ubyte.gz" in message
    assert "connect to the internet" in message and "TRAINLAB_DATA_DIR" in message


# -- end to end: the entry point reports each as one line and exit code 2 --------------------------------------------


def one_error_line(done) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_train_with_a_truncated_archive(run_entry, mnist_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(mnist_dir / "mnist", data / "mnist")
    damaged = data / "mnist" / FILES["test_labels"].name
    damaged.write_bytes(damaged.read_bytes()[:-8])
    done = run_entry(
        "train", "print_config=false", f"paths.cache_dir={tmp_path / 'cache'}", env={"TRAINLAB_DATA_DIR": str(data)}
    )
    line = one_error_line(done)
    assert str(damaged) in line and FILES["test_labels"].md5 in line and "Fix: delete" in line


def test_train_without_data_and_network(run_entry, tmp_path: Path) -> None:
    done = run_entry(
        "train",
        "print_config=false",
        "data.mirrors=[http://127.0.0.1:9/]",
        f"paths.cache_dir={tmp_path / 'cache'}",
        env={"TRAINLAB_DATA_DIR": str(tmp_path / "empty")},
    )
    line = one_error_line(done)
    assert str(tmp_path / "empty" / "mnist") in line and "http://127.0.0.1:9/" in line and "TRAINLAB_DATA_DIR" in line


def test_train_with_an_unwritable_data_dir(run_entry, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file where the data dir should be")
    done = run_entry(
        "train",
        "print_config=false",
        f"paths.cache_dir={tmp_path / 'cache'}",
        env={"TRAINLAB_DATA_DIR": str(tmp_path / "file" / "data")},
    )
    line = one_error_line(done)
    assert "cannot create the data dir" in line and "TRAINLAB_DATA_DIR" in line
