"""trainlab's Optuna sweeper on a toy objective, in this process (no torch, no data): the search-space syntax,
storage and resume, failed and pruned trials, the failure limit, the grid sampler, the plugin's discovery, and
each job's thread count. The sweeps of real training runs are in tests/test_optuna_train.py (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml
from helpers.toy_sweep import sweep_in_process as sweep_toy
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from trainlab.config.errors import UserError
from trainlab.sweeps.results import RESULTS_FILE
from trainlab.sweeps.search_space import grid_choices, parse_space
from trainlab.sweeps.storage import open_storage, storage_spec
from trainlab.sweeps.threads import default_threads, set_threads


def load(sweep_dir: Path) -> optuna.Study:
    results = yaml.safe_load((sweep_dir / RESULTS_FILE).read_text())
    return optuna.load_study(study_name=results["study_name"], storage=open_storage(results["storage"]))


def test_search_space_syntax_of_hydra_optuna_sweeper() -> None:
    space = parse_space(
        {
            "a": "interval(0.1, 0.5)",
            "b": "int(interval(8, 64))",
            "c": "tag(log, interval(1e-4, 1e-1))",
            "d": "choice(32, 64)",
            "e": "range(1, 5)",
            "f": "choice([128],[256,256])",
            "g": "3",
        },
        ["++trainer.fast_dev_run=true", "d=choice(16, 32)"],
    )
    dists = space.distributions
    assert dists["a"] == FloatDistribution(0.1, 0.5)
    assert dists["b"] == IntDistribution(8, 64)
    assert dists["c"] == FloatDistribution(1e-4, 1e-1, log=True)
    assert dists["d"] == CategoricalDistribution([16, 32])  # the command line wins over params
    assert dists["e"] == IntDistribution(1, 4)  # Hydra's range leaves out its end
    assert dists["f"] == CategoricalDistribution(["[128]", "[256,256]"])
    assert space.fixed == ["g=3", "++trainer.fast_dev_run=true"]
    assert space.overrides({"a": 0.2, "f": "[128]"}) == ["a=0.2", "f=[128]", "g=3", "++trainer.fast_dev_run=true"]
    assert grid_choices(parse_space({"d": "choice(1, 2)", "e": "range(0, 6, 2)"}, [])) == {
        "d": [1, 2],
        "e": [0, 2, 4],
    }
    with pytest.raises(UserError, match=r"GridSampler needs a finite set of values; use choice"):
        grid_choices(space)


def test_storage_default_is_sqlite_in_the_sweep_dir_and_a_path_is_a_journal(tmp_path: Path) -> None:
    assert storage_spec(None, tmp_path / "s") == f"sqlite:///{tmp_path / 's' / 'optuna.db'}"
    assert storage_spec("postgresql+psycopg://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    journal = storage_spec(str(tmp_path / "j" / "study.journal"), tmp_path)
    assert isinstance(open_storage(journal), optuna.storages.JournalStorage)
    assert (tmp_path / "j").is_dir()


def test_tpe_sweep_writes_its_storage_and_the_same_command_continues_to_n_trials(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    code, out, err = sweep_toy(sweep, "x=interval(0,1)", "hydra.sweeper.n_trials=3")
    assert code == 0, err
    assert (sweep / "optuna.db").is_file()
    results = yaml.safe_load((sweep / RESULTS_FILE).read_text())
    assert {"name", "best_params", "best_value", "study_name", "storage"} <= set(results)
    assert results["storage"] == f"sqlite:///{sweep / 'optuna.db'}" and results["study_name"] == "sweep"
    assert len(load(sweep).trials) == 3
    assert f"optuna: best trial {results['best_trial']}: toy={results['best_value']:.4f}" in out

    code, _, err = sweep_toy(sweep, "x=interval(0,1)", "hydra.sweeper.n_trials=5")
    assert code == 0, err
    study = load(sweep)
    assert [t.number for t in study.trials] == [0, 1, 2, 3, 4]
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1", "2", "3", "4"]
    assert len({t.params["x"] for t in study.trials}) == 5  # the continued sampler does not repeat the first draws
    assert (
        study.best_value
        == max(t.value for t in study.trials)
        == yaml.safe_load((sweep / RESULTS_FILE).read_text())["best_value"]
    )


def test_a_trial_an_interrupted_sweep_left_running_is_failed_and_not_counted(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    left = optuna.create_study(storage=f"sqlite:///{sweep / 'optuna.db'}", study_name="sweep", direction="maximize")
    left.ask()  # the sweep was killed while this trial ran
    code, _, err = sweep_toy(sweep, "x=interval(0,1)", "hydra.sweeper.n_trials=2")
    assert code == 0, err
    study = load(sweep)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert study.trials[0].user_attrs == {"trainlab.interrupted": True}


def test_a_job_that_raises_is_a_failed_trial_and_the_sweep_goes_on(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    code, _, err = sweep_toy(
        sweep, "x=choice(0.2,0.4,0.6)", "fail_x=0.4", "hydra/sweeper/sampler=grid", "hydra.sweeper.n_trials=10"
    )
    assert code == 0, err
    study = load(sweep)
    assert len(study.trials) == 3  # the grid's size, not n_trials
    states = {t.params["x"]: t.state for t in study.trials}
    assert states == {0.2: TrialState.COMPLETE, 0.4: TrialState.FAIL, 0.6: TrialState.COMPLETE}
    failed = next(t for t in study.trials if t.state == TrialState.FAIL)
    assert failed.user_attrs["trainlab.failure"] == "RuntimeError: toy failure at x=0.4"
    assert study.best_value == 0.6


def test_a_sweep_that_keeps_failing_stops_with_one_line(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    code, _, err = sweep_toy(sweep, "x=0.3", "fail_x=0.3", "hydra.sweeper.n_trials=4")
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith(
        "error: optuna sweep stopped: 3 trials failed, more than hydra.sweeper.max_failure_rate=0.5 of n_trials=4; "
        f"the latest, trial 2 ({sweep / '2'}): RuntimeError: toy failure at x=0.3"
    )
    assert "Traceback" not in err
    assert [t.state for t in load(sweep).trials] == [TrialState.FAIL] * 3


def test_pruning_stops_a_hopeless_trial_early(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    median = ["hydra/sweeper/pruner=median", "hydra.sweeper.pruner.n_startup_trials=1"]
    code, _, err = sweep_toy(sweep, "x=1.0", "hydra.sweeper.n_trials=1", *median)
    assert code == 0, err
    code, out, err = sweep_toy(sweep, "x=0.1", "hydra.sweeper.n_trials=2", *median)
    assert code == 0, err
    study = load(sweep)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.PRUNED]
    assert json.loads((sweep / "0" / "steps.json").read_text())["steps"] == [0, 1, 2, 3, 4]
    assert json.loads((sweep / "1" / "steps.json").read_text())["steps"] == [0]  # stopped after its first report
    assert study.trials[1].intermediate_values == {0: pytest.approx(0.02)}
    assert "(1 complete, 1 pruned)" in out


def test_the_plugin_is_discovered_in_the_hydra_plugins_namespace() -> None:
    from hydra.core.plugins import Plugins
    from hydra.plugins.sweeper import Sweeper

    names = {f"{p.__module__}.{p.__name__}" for p in Plugins.instance().discover(Sweeper)}
    assert "hydra_plugins.trainlab_optuna_sweeper.optuna_sweeper.OptunaSweeper" in names


def test_threads_default_to_cores_over_parallel_jobs() -> None:
    launcher = {"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 2}
    assert default_threads(cores=2, launcher=launcher) == 1
    assert default_threads(cores=16, launcher=launcher) == 8
    assert default_threads(cores=16, launcher={**launcher, "n_jobs": -1}) == 1  # joblib's -1: one job per core
    submitit = {"_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"}
    assert default_threads(cores=64, launcher={**submitit, "cpus_per_task": 8}) == 8
    assert default_threads(cores=4, launcher=None) == 4


def test_threads_sets_torch_threads_and_refuses_a_bad_value() -> None:
    import torch

    before = torch.get_num_threads()
    try:
        assert set_threads({"threads": 1}) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(UserError, match=r"threads=0: a whole number ≥ 1, or null"):
        set_threads({"threads": 0})
