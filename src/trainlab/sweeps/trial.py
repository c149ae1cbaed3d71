"""Inside a job of an Optuna sweep: the trial it runs, and the Lightning callback that reports to it and prunes.

The sweeper tells each job its trial through the job's config: `hydra.job.env_set` holds the storage, the study
name and the trial number (Hydra sets them as environment variables while the job runs, with every launcher,
and keeps them out of the job's `overrides.yaml`). The job opens the same storage (an SQLite or Journal file
shared by parallel processes, or a database shared by machines), reports `optimized_metric` after each
validation and stops when the study's pruner says so: it raises `optuna.TrialPruned`, which the sweeper records
as a pruned trial, and leaves a `metrics.json` with `"status": "pruned"`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

ENV_STORAGE = "TRAINLAB_OPTUNA_STORAGE"
ENV_STUDY = "TRAINLAB_OPTUNA_STUDY"
ENV_TRIAL = "TRAINLAB_OPTUNA_TRIAL"
PRUNER_ATTR = "trainlab.pruner"


def quoted(value: str) -> str:
    """A value in Hydra's override syntax, as a quoted string (URLs and paths hold `:` and `=`)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def job_overrides(storage: str, study_name: str, number: int) -> list[str]:
    """The overrides that tell a job its trial (see the module docstring)."""
    values = {ENV_STORAGE: storage, ENV_STUDY: study_name, ENV_TRIAL: str(number)}
    return [f"++hydra.job.env_set.{key}={quoted(value)}" for key, value in values.items()]


def current_trial() -> Any:
    """The `optuna.Trial` this process runs (with the study's pruner), or None outside an Optuna sweep."""
    spec, name, number = (os.environ.get(key) for key in (ENV_STORAGE, ENV_STUDY, ENV_TRIAL))
    if not (spec and name and number):
        return None
    import optuna

    from trainlab.sweeps.pruners import build_pruner
    from trainlab.sweeps.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(spec)
    study_id = storage.get_study_id_from_name(name)
    pruner = build_pruner(storage.get_study_user_attrs(study_id).get(PRUNER_ATTR))
    # The sampler is the sweeper's business; RandomSampler is the one that costs nothing to build here.
    study = optuna.load_study(study_name=name, storage=storage, pruner=pruner, sampler=optuna.samplers.RandomSampler())
    return optuna.trial.Trial(study, storage.get_trial_id_from_study_id_trial_number(study_id, int(number)))


def should_stop(trial: Any, value: float, step: int) -> bool:
    """Report `value` at `step` to the trial; whether its pruner says to stop now."""
    if not math.isfinite(value):
        return False  # a non-finite value is the divergence check's business
    trial.report(value, step)
    return bool(trial.should_prune())


def trial_callbacks(cfg: Any) -> list[Any]:
    """[the pruning callback] inside an Optuna sweep's job, else []."""
    trial = current_trial()
    if trial is None:
        return []
    from trainlab.sweeps.pruning import ReportToTrial

    return [ReportToTrial(trial, str(cfg.optimized_metric), Path(cfg.paths.output_dir) / "metrics.json")]
