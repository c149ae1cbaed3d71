"""Launchers and cores (slow): the parallel launcher runs an Optuna sweep's jobs in separate processes, each with
cores ÷ n_jobs torch threads, and the jobs report to their trials through the shared storage."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml
from helpers.repo_copy import copy_repo, run_typed

from trainlab.sweeps.results import RESULTS_FILE
from trainlab.sweeps.storage import open_storage
from trainlab.sweeps.threads import usable_cores

TINY = "trainer.limit_train_batches=5 trainer.limit_val_batches=1 trainer.limit_test_batches=1 print_config=false"


@pytest.mark.slow
def test_parallel_launcher_runs_two_jobs_in_two_processes_with_their_share_of_the_cores(
    tmp_path: Path, mnist_dir: Path, cache_dir: Path
) -> None:
    root = copy_repo(tmp_path / "repo")
    sweep = tmp_path / "sweep"
    command = (
        "python src/train.py hparams_search=mnist_optuna hydra/launcher=parallel hydra.launcher.n_jobs=2 "
        "hydra.sweeper.n_trials=2 trainer.max_epochs=1 +callbacks.threads._target_=helpers.probes.RecordThreads "
        f"+callbacks.threads.out_dir='${{paths.output_dir}}' hydra.sweep.dir={sweep} paths.cache_dir={cache_dir} {TINY}"
    )
    result = run_typed(command, root, mnist_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads((sweep / str(n) / "threads.json").read_text()) for n in range(2)]
    assert len({r["pid"] for r in records}) == 2  # two worker processes
    assert [r["threads"] for r in records] == [max(1, usable_cores() // 2)] * 2  # 1 each on 2 cores
    results = yaml.safe_load((sweep / RESULTS_FILE).read_text())
    study = optuna.load_study(study_name=results["study_name"], storage=open_storage(results["storage"]))
    # Both trials were asked together, and each worker reported its epochs to its own trial in the shared storage.
    assert [sorted(t.intermediate_values) for t in study.trials] == [[0], [0]]
