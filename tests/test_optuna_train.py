"""trainlab's Optuna sweeper with real training jobs (slow): a file written for hydra-optuna-sweeper, as typed in
a copy of the repo with the default dirs, and pruning inside Lightning."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml
from helpers.repo_copy import copy_repo, run_typed
from optuna.trial import TrialState

from trainlab.sweeps.results import RESULTS_FILE
from trainlab.sweeps.storage import open_storage

TINY = "trainer.limit_train_batches=10 trainer.limit_val_batches=2 trainer.limit_test_batches=1 print_config=false"

# lightning-hydra-template's configs/hparams_search/mnist_optuna.yaml, written for hydra-optuna-sweeper 1.3, on
# trainlab's keys; only `_target_` names trainlab's plugin instead of `hydra_plugins.hydra_optuna_sweeper…`.
HYDRA_OPTUNA_SWEEPER_FILE = """\
# @package _global_
defaults:
  - override /hydra/sweeper: optuna

optimized_metric: "val/acc_best"

hydra:
  mode: "MULTIRUN"
  sweeper:
    _target_: hydra_plugins.trainlab_optuna_sweeper.optuna_sweeper.OptunaSweeper
    storage: null
    study_name: null
    n_jobs: 1
    direction: maximize
    n_trials: 3
    sampler:
      _target_: optuna.samplers.TPESampler
      seed: 1234
      n_startup_trials: 10
      consider_prior: true
      prior_weight: 1.0
      consider_magic_clip: true
      consider_endpoints: false
      n_ei_candidates: 24
      multivariate: false
      warn_independent_sampling: true
    params:
      optimizer.lr: interval(0.0001, 0.1)
      data.batch_size: choice(32, 64, 128, 256)
      model.hidden: choice([32], [64, 64])
"""


def load(sweep: Path) -> optuna.Study:
    results = yaml.safe_load((sweep / RESULTS_FILE).read_text())
    return optuna.load_study(study_name=results["study_name"], storage=open_storage(results["storage"]))


@pytest.mark.slow
def test_a_hydra_optuna_sweeper_file_runs_as_typed_with_the_default_dirs(tmp_path: Path, mnist_dir: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    (root / "conf" / "hparams_search" / "theirs.yaml").write_text(HYDRA_OPTUNA_SWEEPER_FILE)
    result = run_typed(f"python src/train.py hparams_search=theirs ++trainer.fast_dev_run=true {TINY}", root, mnist_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    [sweep] = sorted((root / "logs" / "train" / "multiruns").iterdir())
    assert (sweep / "optuna.db").is_file()
    results = yaml.safe_load((sweep / RESULTS_FILE).read_text())
    assert results["study_name"] == sweep.name and results["storage"] == f"sqlite:///{sweep / 'optuna.db'}"
    study = load(sweep)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    for trial in study.trials:  # each job ran with its trial's values and returned its val/acc_best
        overrides = yaml.safe_load((sweep / str(trial.number) / ".hydra" / "overrides.yaml").read_text())
        assert f"data.batch_size={trial.params['data.batch_size']}" in overrides
        assert not any("TRAINLAB_OPTUNA" in o for o in overrides)  # the trial's keys stay in hydra.yaml
        metrics = json.loads((sweep / str(trial.number) / "metrics.json").read_text())
        assert trial.value == pytest.approx(metrics["val/acc_best"])
    assert results["best_value"] == pytest.approx(max(t.value for t in study.trials))
    assert "optuna: best trial" in result.stdout


@pytest.mark.slow
def test_pruning_stops_a_hopeless_training_run_after_its_first_epoch(
    tmp_path: Path, mnist_dir: Path, cache_dir: Path
) -> None:
    root = copy_repo(tmp_path / "repo")
    sweep = tmp_path / "sweep"
    result = run_typed(
        [
            "python",
            "src/train.py",
            "-m",
            "hydra/sweeper=optuna",
            "hydra/sweeper/sampler=grid",
            "optimizer.lr=choice(3e-3,1e-7)",
            "hydra/sweeper/pruner=none",  # then made a ThresholdPruner: val/acc_best below 0.5 is pruned
            "hydra.sweeper.pruner._target_=optuna.pruners.ThresholdPruner",
            "+hydra.sweeper.pruner.lower=0.5",
            "trainer.max_epochs=3",
            f"hydra.sweep.dir={sweep}",
            f"paths.cache_dir={cache_dir}",  # MNIST decoded once per session
            *TINY.split(),
        ],
        root,
        mnist_dir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    trials = {t.params["optimizer.lr"]: t for t in load(sweep).trials}
    good, hopeless = trials[3e-3], trials[1e-7]
    assert good.state == TrialState.COMPLETE and sorted(good.intermediate_values) == [0, 1, 2]
    assert hopeless.state == TrialState.PRUNED and sorted(hopeless.intermediate_values) == [0]
    stopped = json.loads((sweep / str(hopeless.number) / "metrics.json").read_text())
    assert stopped["status"] == "pruned" and stopped["epochs"] == 1
    assert json.loads((sweep / str(good.number) / "metrics.json").read_text())["epochs"] == 3
    assert "Error executing job" not in result.stderr
