"""The report's part for Optuna sweeps: the study opened from the sweep dir, and Optuna's own matplotlib plots
(optimization history, parameter importances, parallel coordinates).

The study is found from `optimization_results.yaml` (`study_name`, `storage`: an RDB URL or the path of a Journal
file, as trainlab's Optuna sweeper writes it), else from the default `<sweep dir>/optuna.db` when it holds one study.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from trainlab.config.errors import UserError
from trainlab.report.collect import Sweep

RESULTS_FILE = "optimization_results.yaml"
DEFAULT_DB = "optuna.db"
TRIAL_ENV = "TRAINLAB_OPTUNA_TRIAL"  # how the sweeper tells a job its trial (hydra.job.env_set, in .hydra/hydra.yaml)
PLOTS = {
    "optuna_history.png": "plot_optimization_history",
    "optuna_importances.png": "plot_param_importances",
    "optuna_parallel.png": "plot_parallel_coordinate",
}


def find_study(sweep_dir: Path) -> Any | None:
    """The sweep's `optuna.Study`, or None when the sweep dir has neither a results file nor an `optuna.db`."""
    results = sweep_dir / RESULTS_FILE
    if results.is_file():
        info = yaml.safe_load(results.read_text()) or {}
        if info.get("study_name") and info.get("storage"):
            return load(str(info["storage"]), str(info["study_name"]), results)
    db = sweep_dir / DEFAULT_DB
    if db.is_file():
        return load(f"sqlite:///{db.resolve()}", None, db)
    return None


def load(storage: str, study_name: str | None, where: Path) -> Any:
    """Open the study read-only as the sweeper stored it; `study_name` None: the storage's only study."""
    import optuna

    if "://" not in storage:
        from optuna.storages.journal import JournalFileBackend

        if not Path(storage).is_file():
            raise UserError(f"{where}: its storage {storage} is not a file; was the Journal file moved?")
        backend: Any = optuna.storages.JournalStorage(JournalFileBackend(storage))
    else:
        backend = storage
    try:
        if study_name is None:
            names = optuna.study.get_all_study_names(storage=backend)
            if len(names) != 1:
                raise UserError(f"{where} holds {len(names)} studies ({', '.join(names)}); expected one")
            study_name = names[0]
        return optuna.load_study(study_name=study_name, storage=backend)
    except UserError:
        raise
    except Exception as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"{where}: cannot open the study {study_name} in {storage} ({detail})") from err


def trial_states(sweep: Sweep, study: Any) -> dict[int, str]:
    """Job number → the state of its trial (`complete`, `fail`, `pruned`, `running`, …), matched through the trial
    number each job was given (its `.hydra/hydra.yaml`), else by job number."""
    states = {t.number: t.state.name.lower() for t in study.get_trials(deepcopy=False)}
    out = {}
    for job in sweep.jobs:
        if not job.dir.name.isdigit():
            continue
        number = trial_number(job.dir)
        number = int(job.dir.name) if number is None else number
        if number in states:
            out[int(job.dir.name)] = states[number]
    return out


def trial_number(job_dir: Path) -> int | None:
    path = job_dir / ".hydra" / "hydra.yaml"
    if not path.is_file():
        return None
    env = ((yaml.safe_load(path.read_text()) or {}).get("hydra", {}).get("job", {}) or {}).get("env_set") or {}
    value = env.get(TRIAL_ENV)
    return int(value) if str(value).isdigit() else None


def plot_study(study: Any, sweep_dir: Path, metric: str) -> tuple[list[Path], list[str]]:
    """Write the three plots; return the files written and, for each plot Optuna could not make (too few
    completed trials, a single parameter value, …), a line saying why."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as vis

    written, skipped = [], []
    for name, function in PLOTS.items():
        plot: Callable[..., Any] = getattr(vis, function)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                ax = plot(study, target_name=metric)
            figure = (ax.flat[0] if hasattr(ax, "flat") else ax).get_figure()
            figure.set_size_inches(8, 5)
            figure.tight_layout()
            figure.savefig(sweep_dir / name, dpi=110)
            plt.close(figure)
            written.append(sweep_dir / name)
        except Exception as err:  # Optuna refuses plots it cannot make; the rest of the report still stands
            skipped.append(f"{name}: not drawn ({str(err).splitlines()[0] if str(err) else type(err).__name__})")
        finally:
            plt.close("all")
    return written, skipped
