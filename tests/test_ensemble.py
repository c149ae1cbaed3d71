"""Ensembles (trainlab.ensemble) in src/eval.py and src/predict.py, and predict's agreement with eval: three seeds'
tiny checkpoints laid out as a sweep dir, predictions on the first 1000 MNIST test images saved as .npy."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers.config import compose_config
from helpers.training import process_state_restored, train_in_process

from trainlab.config.errors import UserError
from trainlab.ensemble import checkpoint_paths

TINY = [
    "trainer.max_epochs=1",
    "++trainer.limit_train_batches=10",
    "++trainer.limit_val_batches=1",
    "++trainer.limit_test_batches=1",
    "model.hidden=[32]",
    "print_config=false",
]
N = 1000  # one test batch (data.eval_batch_size): what eval's limit_test_batches=1 tests


def run_in_process(name: str, overrides: list[str], out_dir: Path, cache_dir: Path) -> Any:
    """What `python src/<name>.py hydra.run.dir=<out_dir> overrides…` does, in this process."""
    from trainlab.config.cli import run_reporting_errors
    from trainlab.evaluation import evaluate_checkpoints
    from trainlab.prediction import predict

    cfg = compose_config(name, overrides, output_dir=out_dir, cache_dir=cache_dir)
    task = {"eval": evaluate_checkpoints, "predict": predict}[name]
    with process_state_restored():
        return run_reporting_errors(lambda: task(cfg), cfg)


def read_predictions(path: Path) -> tuple[list[dict[str, str]], np.ndarray]:
    rows = list(csv.DictReader(path.open()))
    probabilities = np.array([[float(row[f"p_{c}"]) for c in range(10)] for row in rows])
    return rows, probabilities


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path, cache_dir: Path) -> Path:
    """Three seeds trained a few steps each, in the layout of a sweep dir (<sweep>/<job>/)."""
    root = tmp_path_factory.mktemp("sweep")
    for seed in (0, 1, 2):
        train_in_process([*TINY, f"seed={seed}"], root / str(seed), cache_dir)
    return root


@pytest.fixture(scope="module")
def test_set(sweep: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """The first N MNIST test images as a uint8 .npy (N, 28, 28), and their labels."""
    (cached,) = cache_dir.glob("mnist-*.pt")
    data = torch.load(cached, weights_only=True)
    path = tmp_path_factory.mktemp("inputs") / "test.npy"
    np.save(path, data["test_images"][:N, 0].numpy())
    return path, data["test_labels"][:N].numpy()


@pytest.fixture(scope="module")
def member_predictions(sweep: Path, test_set, cache_dir: Path, tmp_path_factory) -> list[np.ndarray]:
    out = []
    for job in range(3):
        run = tmp_path_factory.mktemp(f"predict{job}")
        run_in_process("predict", [f"ckpt_path={sweep / str(job)}", f"inputs={test_set[0]}"], run, cache_dir)
        out.append(read_predictions(run / "predictions.csv"))
    return out


@pytest.mark.slow  # trains three checkpoints (the fixtures): ~20 s on 2 cores
def test_predict_on_the_test_set_reproduces_evals_accuracy(
    sweep: Path, test_set, member_predictions, cache_dir: Path, tmp_path: Path
) -> None:
    best = json.loads((sweep / "0" / "metrics.json").read_text())["ckpt_best"]
    run_in_process("eval", [f"ckpt_path={best}", "++trainer.limit_test_batches=1"], tmp_path, cache_dir)
    evaluated = json.loads((tmp_path / "metrics.json").read_text())
    rows, probabilities = member_predictions[0]
    assert [row["input"] for row in rows] == [str(i) for i in range(N)]
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-6)
    assert [int(row["class"]) for row in rows] == probabilities.argmax(axis=1).tolist()
    accuracy = np.mean(probabilities.argmax(axis=1) == test_set[1])
    assert accuracy == pytest.approx(evaluated["test/acc"], abs=1e-6)
    assert sum(evaluated["test/class_counts"].values()) == N


@pytest.mark.slow
def test_an_ensemble_of_three_seeds_averages_their_probabilities(
    sweep: Path, test_set, member_predictions, cache_dir: Path, tmp_path: Path
) -> None:
    members = [probabilities for _, probabilities in member_predictions]
    paths = [str(p) for p in checkpoint_paths(str(sweep))]
    run_in_process("predict", [f"ckpt_path=[{','.join(paths)}]", f"inputs={test_set[0]}"], tmp_path, cache_dir)
    _, ensemble = read_predictions(tmp_path / "predictions.csv")
    mean = np.mean(members, axis=0)
    assert np.allclose(ensemble, mean, atol=1e-8)
    assert not np.allclose(members[0], members[1], atol=1e-3)  # the seeds really differ

    labels = test_set[1]
    run_in_process("eval", [f"ckpt_path={sweep}", "++trainer.limit_test_batches=1"], tmp_path / "eval", cache_dir)
    evaluated = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert evaluated["ensemble/members"] == 3
    for i, probabilities in enumerate(members):
        assert evaluated[f"members/{i}/test/acc"] == pytest.approx(np.mean(probabilities.argmax(1) == labels), abs=1e-6)
        assert evaluated[f"members/{i}/ckpt_path"] == paths[i]
    assert evaluated["ensemble/test/acc"] == pytest.approx(np.mean(mean.argmax(1) == labels), abs=1e-9)
    nll = -np.mean(np.log(mean[np.arange(N), labels]))
    assert evaluated["ensemble/test/loss"] == pytest.approx(nll, rel=1e-5)
    assert (tmp_path / "eval" / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_a_sweep_dir_names_each_jobs_best_checkpoint(tmp_path: Path) -> None:
    for job in (0, 1, 10, 2):
        (tmp_path / str(job) / "checkpoints").mkdir(parents=True)
        (tmp_path / str(job) / "checkpoints" / f"epoch_00{job % 3}.ckpt").write_bytes(b"")
        (tmp_path / str(job) / "checkpoints" / "last.ckpt").write_bytes(b"")
        moved = f"/elsewhere/{job}/checkpoints/epoch_00{job % 3}.ckpt"  # the sweep dir was moved: its name counts
        (tmp_path / str(job) / "metrics.json").write_text(json.dumps({"ckpt_best": moved}))
    found = checkpoint_paths(str(tmp_path))
    assert [(p.parents[1].name, p.name) for p in found] == [
        ("0", "epoch_000.ckpt"),
        ("1", "epoch_001.ckpt"),
        ("2", "epoch_002.ckpt"),
        ("10", "epoch_001.ckpt"),
    ]
    assert checkpoint_paths([str(tmp_path / "1"), str(found[0])]) == [found[1], found[0]]
    (tmp_path / "2" / "checkpoints" / "epoch_002.ckpt").unlink()
    with pytest.raises(UserError, match=r"2 has no best checkpoint"):
        checkpoint_paths(str(tmp_path))
    with pytest.raises(UserError, match="neither a run dir nor a sweep dir"):
        checkpoint_paths(str(tmp_path / "1" / "checkpoints"))
