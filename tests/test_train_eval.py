"""End-to-end runs of the entry points on real MNIST slices."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from helpers import runner
from helpers.config import QUICK, compose_train
from helpers.paths import REPO
from helpers.training import read_metrics

METRIC_KEYS = {"train/loss", "train/acc", "val/loss", "val/acc", "val/acc_best", "test/loss", "test/acc"}


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_one_epoch_on_a_slice(train_run, tmp_path: Path, model: str) -> None:
    batches = {"mlp": 20, "cnn": 8}[model]  # the CNN step is ~20× the MLP's on a CPU
    train_run(f"model={model}", *QUICK, f"++trainer.limit_train_batches={batches}")
    run = tmp_path / "run"
    metrics = read_metrics(run)
    assert set(metrics) >= METRIC_KEYS
    assert metrics["epochs"] == 1 and metrics["status"] == "completed" and metrics["fit_seconds"] > 0
    assert Path(metrics["ckpt_best"]).is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "csv" / "metrics.csv").is_file()
    assert metrics["train/acc"] > 0.2  # a few Adam steps leave chance (0.1) far behind
    checkpoint = torch.load(metrics["ckpt_best"], weights_only=True)  # plain data only
    assert checkpoint["hyper_parameters"]["net"]["_target_"].endswith(model.upper())


def test_train_with_the_default_paths_in_a_copy_of_the_repo(tmp_path: Path, mnist_dir: Path) -> None:
    """What the README's first command does: no hydra.run.dir, no paths.*; the run dir, the decoded-data cache
    and the logs land under the folder it runs from, and nowhere else."""
    copy = tmp_path / "repo"
    for folder in ("src", "conf"):
        shutil.copytree(REPO / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    done = runner.run(
        runner.command("train", QUICK, src=copy / "src"), cwd=copy, env={"TRAINLAB_DATA_DIR": str(mnist_dir)}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (copy / "logs" / "train" / "runs").iterdir()
    assert read_metrics(run)["status"] == "completed"
    assert (run / ".hydra" / "config.yaml").is_file() and (run / "csv" / "metrics.csv").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "train.log").is_file()
    assert len(list((copy / "data" / "cache").glob("mnist-*.pt"))) == 1
    assert sorted(p.name for p in copy.iterdir()) == ["conf", "data", "logs", "src"]


def test_eval_reproduces_the_train_runs_test_accuracy(train_run, run_entry, tmp_path: Path) -> None:
    overrides = [o for o in QUICK if "limit_test" not in o]  # both sides test on the full 10k
    train_metrics = train_run("data.normalize=minmax", "data.val_size=2000", *overrides)
    evaluated = run_entry("eval", f"ckpt_path={train_metrics['ckpt_best']}", run_dir=tmp_path / "eval")
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    eval_metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert eval_metrics["test/acc"] == train_metrics["test/acc"]
    assert eval_metrics["test/loss"] == pytest.approx(train_metrics["test/loss"], rel=1e-6)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ckpt_path=/nonexistent/last.ckpt"], "no such file"),
        (["ckpt_path=pyproject.toml"], "not a readable trainlab checkpoint"),
    ],
)
def test_eval_rejects_bad_checkpoints(run_entry, args: list[str], needle: str) -> None:
    result = run_entry("eval", *args)
    assert result.returncode == 2
    assert needle in result.stderr and "ckpt_path" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow
def test_sweep_over_a_regularization_list(run_entry, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_entry("train", "-m", "regularization=dropout,[dropout,l2]", f"hydra.sweep.dir={sweep}", *QUICK)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = [read_metrics(sweep / str(job)) for job in (0, 1)]
    assert all(job["status"] == "completed" for job in jobs)
    assert "train/penalty" not in jobs[0] and jobs[1]["train/penalty"] > 0


@pytest.mark.slow
def test_default_run_reaches_98_percent(run_entry, tmp_path: Path) -> None:
    # A subprocess: the whole default run, as `python src/train.py` does it (its epochs from conf/trainer).
    result = run_entry("train")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(tmp_path / "run")
    assert metrics["test/acc"] >= 0.98 and metrics["epochs"] == compose_train().trainer.max_epochs
