"""Sweeps: as typed (default dirs) with every launcher, the summary they end with, and a multirun over init and
activation whose switches show their effect."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from pathlib import Path

import pytest
from helpers.config import QUICK
from helpers.paths import CONF
from helpers.repo_copy import copy_repo, run_typed
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from trainlab.config.run_dirs import register_resolver
from trainlab.sweep_summary import SUMMARY_FILE, summarize

# Tiny limits appended to a typed command: what it does is unchanged, it just takes seconds.
TINY = "trainer.limit_train_batches=2 trainer.limit_val_batches=1 trainer.limit_test_batches=1 print_config=false"
LAUNCHERS = {  # hydra/launcher option → the plugin it needs
    "basic": None,
    "parallel": "hydra_plugins.hydra_joblib_launcher",
    "slurm": "hydra_plugins.hydra_submitit_launcher",
    "submitit_local": "hydra_plugins.hydra_submitit_launcher",
}


def installed(module: str | None) -> bool:
    return module is None or importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_sweep_dir_resolves_before_any_job_starts(launcher: str, tmp_path: Path, monkeypatch) -> None:
    """Every launcher reads hydra.sweep.dir (and submitit its folder under it) before Hydra sets its runtime:
    the default paths must resolve there, under the folder the command runs from."""
    if not installed(LAUNCHERS[launcher]):
        pytest.skip(f"hydra/launcher={launcher} needs {LAUNCHERS[launcher]} (pip install -e '.[joblib,slurm]')")
    monkeypatch.chdir(tmp_path)
    register_resolver()  # as the entry points do
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"hydra/launcher={launcher}"], return_hydra_config=True)
    sweep_dir = Path(cfg.hydra.sweep.dir)
    assert sweep_dir.parent == tmp_path / "logs" / "train" / "multiruns"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_\d{6}", sweep_dir.name)
    if "submitit_folder" in cfg.hydra.launcher:
        assert Path(cfg.hydra.launcher.submitit_folder).parent.parent == sweep_dir
    assert OmegaConf.select(cfg, "hydra.callbacks.sweep_summary._target_") == "trainlab.sweep_summary.SweepSummary"


def test_grid_over_a_list_choice_gives_each_job_its_own_options() -> None:
    """`'regularization=[dropout,l2],none'`: Hydra's basic sweeper makes one job per value, and the list value
    combines both options in its job (dropout and the L2 penalty), the other none of them."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = OverridesParser.create().parse_overrides(["regularization=[dropout,l2],none", "optimizer.lr=1e-3,3e-3"])
    [batch] = BasicSweeper.split_arguments(overrides, None)
    assert len(batch) == 4
    register_resolver()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        jobs = {tuple(job): compose("train", overrides=list(job)) for job in batch}
    for job, cfg in jobs.items():
        combined = "regularization=[dropout,l2]" in job
        assert (cfg.regularization.dropout > 0, cfg.regularization.l2 > 0) == (combined, combined), job
    assert {cfg.optimizer.lr for cfg in jobs.values()} == {1e-3, 3e-3}


def fake_job(sweep: Path, n: int, overrides: list[str], metrics: dict | None) -> None:
    job = sweep / str(n)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if metrics is not None:
        (job / "metrics.json").write_text(json.dumps(metrics))


def test_summary_ranks_jobs_and_lists_failures_last(tmp_path: Path) -> None:
    fake_job(tmp_path, 0, ["optimizer.lr=0.1", "trainer.max_epochs=2"], {"val/acc_best": 0.5, "status": "completed"})
    fake_job(tmp_path, 1, ["optimizer.lr=0.01", "trainer.max_epochs=2"], None)  # crashed before metrics.json
    fake_job(tmp_path, 2, ["optimizer.lr=0.001", "trainer.max_epochs=2"], {"status": "diverged"})
    fake_job(
        tmp_path,
        3,
        ["optimizer.lr=0.0001", "trainer.max_epochs=2"],
        {"val/acc_best": 0.9, "test/acc": 0.91, "status": "completed"},
    )
    report = summarize(tmp_path, "val/acc_best")
    lines = report.splitlines()
    assert lines[0] == "sweep summary: 4 jobs ranked by val/acc_best (highest first)"
    assert lines[1].split() == ["rank", "job", "overrides", "val/acc_best", "test/acc", "status"]
    assert lines[2].split() == ["1", "3", "optimizer.lr=0.0001", "0.9000", "0.9100", "completed"]
    assert lines[3].split() == ["2", "0", "optimizer.lr=0.1", "0.5000", "completed"]
    assert [line.split()[-1] for line in lines[4:6]] == ["failed", "diverged"]
    with (tmp_path / SUMMARY_FILE).open() as f:
        table = list(csv.DictReader(f))
    assert [row["job"] for row in table] == ["3", "0", "1", "2"]
    assert table[0]["overrides"] == "optimizer.lr=0.0001"  # the key every job shares is left out


def test_summary_puts_the_lowest_loss_first(tmp_path: Path) -> None:
    fake_job(tmp_path, 0, ["a=1"], {"val/loss": 0.3, "status": "completed"})
    fake_job(tmp_path, 1, ["a=2"], {"val/loss": 0.1, "status": "completed"})
    assert "(lowest first)" in summarize(tmp_path, "val/loss")
    with (tmp_path / SUMMARY_FILE).open() as f:
        assert [row["job"] for row in csv.DictReader(f)] == ["1", "0"]


def sweep_dirs(root: Path) -> list[Path]:
    return sorted((root / "logs" / "train" / "multiruns").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "jobs"),
    [
        ("python src/train.py -m 'regularization=[dropout,l2],none' optimizer.lr=1e-3,3e-3 trainer.max_epochs=2", 4),
        ("python src/train.py -m hydra/launcher=parallel hydra.launcher.n_jobs=2 optimizer.lr=1e-3,3e-3", 2),
        ("python src/train.py -m hydra/launcher=submitit_local optimizer.lr=1e-3,3e-3", 2),
        ("python src/train.py hparams_search=mnist_grid trainer.max_epochs=1", 6),
    ],
    ids=["basic", "parallel", "submitit_local", "hparams_search"],
)
def test_sweep_as_typed_uses_the_default_dirs(command: str, jobs: int, tmp_path: Path, mnist_dir: Path) -> None:
    launcher = re.search(r"hydra/launcher=(\w+)", command)
    if launcher and not installed(LAUNCHERS[launcher.group(1)]):
        pytest.skip(f"{launcher.group(0)} needs {LAUNCHERS[launcher.group(1)]} (pip install -e '.[joblib,slurm]')")
    root = copy_repo(tmp_path / "repo")
    result = run_typed(f"{command} {TINY}", root, mnist_dir, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    [sweep] = sweep_dirs(root)  # logs/train/multiruns/<date_time>/
    assert sorted(p.parent.name for p in sweep.glob("*/metrics.json")) == [str(n) for n in range(jobs)]
    assert all(json.loads(p.read_text())["status"] == "completed" for p in sweep.glob("*/metrics.json"))
    assert f"sweep summary: {jobs} jobs ranked by val/acc_best (highest first)" in result.stdout
    with (sweep / SUMMARY_FILE).open() as f:
        table = list(csv.DictReader(f))
    assert [row["rank"] for row in table] == [str(n) for n in range(1, jobs + 1)]
    best = [float(row["val/acc_best"]) for row in table]
    assert best == sorted(best, reverse=True)


@pytest.mark.slow
def test_init_by_activation_sweep_runs_every_job(run_entry, tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    quick = [o for o in QUICK if not o.startswith("++trainer.limit_train_batches")]
    result = run_entry(
        "train",
        "hydra.mode=MULTIRUN",
        "init=zeros,he",
        "model.activation=sigmoid,relu",
        *quick,
        "++trainer.limit_train_batches=60",
        "callbacks=none",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(sweep_dir.glob("*/metrics.json"))
    assert len(jobs) == 4
    acc = {}
    for path in jobs:
        overrides = (path.parent / ".hydra" / "overrides.yaml").read_text()
        init = "zeros" if "init=zeros" in overrides else "he"
        activation = "sigmoid" if "activation=sigmoid" in overrides else "relu"
        acc[init, activation] = json.loads(path.read_text())["test/acc"]
    # Zero weights: every hidden unit computes the same value, so the net cannot learn beyond a linear read-out of
    # one unit (ReLU: of nothing at all); He init learns in 60 steps.
    assert acc["zeros", "relu"] < 0.2
    assert acc["he", "relu"] > 0.8 and acc["he", "sigmoid"] > 0.5
    assert acc["zeros", "sigmoid"] < acc["he", "sigmoid"]


@pytest.mark.parametrize("sweeper", ["basic", "optuna"])
def test_a_grid_sweep_with_a_diverged_job_ends_with_one_line_and_exit_1(sweeper: str, tmp_path: Path, capsys) -> None:
    from trainlab.sweep_summary import SweepSummary

    fake_job(tmp_path, 0, ["optimizer.lr=10", "seed=1"], {"status": "diverged"})
    fake_job(tmp_path, 1, ["optimizer.lr=0.01", "seed=1"], {"val/acc_best": 0.9, "status": "completed"})
    target = {
        "basic": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
        "optuna": "hydra_plugins.trainlab_optuna_sweeper.optuna_sweeper.OptunaSweeper",
    }[sweeper]
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}, "sweeper": {"_target_": target}}})
    if sweeper == "optuna":  # its own failure policy decides (max_failure_rate): the summary only
        SweepSummary().on_multirun_end(config=config)
    else:
        with pytest.raises(SystemExit) as stop:
            SweepSummary().on_multirun_end(config=config)
        assert stop.value.code == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[-2].split() == ["-", "0", "optimizer.lr=10", "diverged"]
    expected = "error: 1 of 2 jobs diverged: job 0 (optimizer.lr=10); each job's metrics.json says where\n"
    assert err == (expected if sweeper == "basic" else "")
