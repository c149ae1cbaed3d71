"""src/predict.py (trainlab.prediction): reading inputs as training does, predictions.csv, and one-line errors
naming the file for each kind of bad input. An untrained checkpoint is enough here (accuracy: test_ensemble.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.config import compose_config, compose_train
from helpers.repo_copy import copy_repo, run_typed
from helpers.training import process_state_restored
from hydra.utils import instantiate
from PIL import Image


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default MLP, untrained, saved as a training run saves it (its data module recorded)."""
    from trainlab.training import build_model

    cfg = compose_train(["data.normalize=minmax"])
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    path = tmp_path_factory.mktemp("ckpt") / "untrained.ckpt"
    torch.save(
        {
            "hyper_parameters": dict(model.hparams),
            "state_dict": model.state_dict(),
            "datamodule_hyper_parameters": dict(datamodule.hparams),
        },
        path,
    )
    return path


def predict_in_process(overrides: list[str], out_dir: Path, cache_dir: Path) -> Path:
    from trainlab.config.cli import run_reporting_errors
    from trainlab.prediction import predict

    cfg = compose_config("predict", overrides, output_dir=out_dir, cache_dir=cache_dir)
    with process_state_restored():
        return run_reporting_errors(lambda: predict(cfg), cfg)


def test_images_are_read_and_scaled_as_in_training(checkpoint: Path, mnist_dir, cache_dir, tmp_path: Path) -> None:
    from trainlab.ensemble import load_member
    from trainlab.prediction import member_probabilities, read_inputs

    folder = tmp_path / "images"
    folder.mkdir()
    gen = np.random.default_rng(0)
    pixels = gen.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    for i, image in enumerate(pixels):  # a PNG, an RGB JPEG-free PNG (converted to grayscale), a channels-last .npy
        Image.fromarray(image).save(folder / f"{i}.png")
    Image.fromarray(np.stack([pixels[0]] * 3, axis=-1)).save(folder / "rgb.PNG")
    images, labels = read_inputs(str(folder), [1, 28, 28])
    assert labels == ["0.png", "1.png", "2.png", "rgb.PNG"]
    assert torch.equal(images[:3, 0], torch.from_numpy(pixels)) and torch.equal(images[3], images[0])
    np.save(tmp_path / "last.npy", pixels[..., None])  # (N, H, W, C)
    assert torch.equal(read_inputs(str(tmp_path / "last.npy"), [1, 28, 28])[0][:, 0], torch.from_numpy(pixels))

    cfg = compose_config("predict", [f"ckpt_path={checkpoint}", "inputs=x"], tmp_path / "run", cache_dir)
    member = load_member(cfg, checkpoint)
    probabilities = member_probabilities(member, images, 2, torch.device("cpu"))
    expected = member.model(images.float() / 255).softmax(dim=1)  # minmax scaling, done by hand
    assert torch.allclose(probabilities, expected, atol=1e-6)

    predict_in_process([f"ckpt_path={checkpoint}", f"inputs={folder}"], tmp_path / "run", cache_dir)
    rows = list(csv.reader((tmp_path / "run" / "predictions.csv").open()))
    assert rows[0] == ["input", "class", *(f"p_{c}" for c in range(10))]
    assert [r[0] for r in rows[1:]] == labels
    assert [int(r[1]) for r in rows[1:]] == expected.argmax(dim=1).tolist()


def write_bad(kind: str, tmp_path: Path) -> Path:
    """A bad input of each kind; returns the path (the file the error must name)."""
    if kind == "missing":
        return tmp_path / "nothing-here.npy"
    if kind == "npy_size":
        np.save(tmp_path / "small.npy", np.zeros((2, 32, 32), dtype=np.uint8))
        return tmp_path / "small.npy"
    if kind == "npy_channels":
        np.save(tmp_path / "rgb.npy", np.zeros((2, 3, 28, 28), dtype=np.uint8))
        return tmp_path / "rgb.npy"
    if kind == "npy_values":
        np.save(tmp_path / "floats.npy", np.full((2, 28, 28), -1.0))
        return tmp_path / "floats.npy"
    if kind == "npy_unreadable":
        (tmp_path / "broken.npy").write_bytes(b"not numpy")
        return tmp_path / "broken.npy"
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(folder / "a_good.png")
    if kind == "image_size":
        Image.fromarray(np.zeros((20, 28), dtype=np.uint8)).save(folder / "b_wide.png")
        return folder / "b_wide.png"
    (folder / "b_broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return folder / "b_broken.jpg"


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("missing", "no such file or folder"),
        ("npy_size", "images of 32×32"),
        ("npy_channels", "images with 3 channels"),
        ("npy_values", "raw pixel values 0..255"),
        ("npy_unreadable", "not a readable .npy file"),
        ("image_size", "an image of 20×28 pixels"),
        ("image_unreadable", "not a readable PNG/JPEG image"),
    ],
)
def test_bad_inputs_are_one_line_naming_the_file(
    checkpoint: Path, cache_dir: Path, tmp_path: Path, capsys, kind: str, needle: str
) -> None:
    bad = write_bad(kind, tmp_path)
    inputs = bad.parent if kind.startswith("image") else bad
    with pytest.raises(SystemExit) as exit_info:
        predict_in_process([f"ckpt_path={checkpoint}", f"inputs={inputs}"], tmp_path / "run", cache_dir)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: inputs={bad}:") and needle in err
    assert not (tmp_path / "run" / "predictions.csv").exists()


def test_unset_and_missing_checkpoints_and_inputs_are_named(
    checkpoint: Path, cache_dir, tmp_path: Path, capsys
) -> None:
    from trainlab.config.validation import problems

    for overrides, expected in (
        ([], "ckpt_path is not set: pass ckpt_path=<run dir>/checkpoints/<file>.ckpt (an ensemble: a list"),
        ([f"ckpt_path={checkpoint}"], "inputs is not set: pass inputs=<images.npy>, a PNG/JPEG file or a folder"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            predict_in_process(overrides, tmp_path / "run", cache_dir)
        assert exit_info.value.code == 2 and capsys.readouterr().err.startswith(f"error: {expected}")
    (tmp_path / "a.ckpt").write_bytes(b"")
    found = problems(compose_config("eval", [f"ckpt_path=[{tmp_path / 'a.ckpt'},{tmp_path / 'b.ckpt'}]"]))
    assert found == [
        f"ckpt_path={tmp_path / 'b.ckpt'}: no such file or folder; pass .ckpt files, a run dir or a sweep dir"
    ]
    assert problems(compose_config("eval", [f"ckpt_path={tmp_path}"])) == []  # a folder: resolved when it runs


@pytest.mark.slow
def test_predict_with_the_default_paths_in_a_copy_of_the_repo(checkpoint: Path, mnist_dir: Path, tmp_path) -> None:
    copy = copy_repo(tmp_path / "repo")
    np.save(tmp_path / "two.npy", np.zeros((2, 28, 28), dtype=np.uint8))
    done = run_typed(f"python src/predict.py ckpt_path={checkpoint} inputs={tmp_path / 'two.npy'}", copy, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (copy / "logs" / "predict" / "runs").iterdir()
    assert len((run / "predictions.csv").read_text().splitlines()) == 3
    assert f"predictions written to {run / 'predictions.csv'}" in done.stdout
