"""The end of an Optuna sweep: the best trial printed, and `optimization_results.yaml` in the sweep dir.

The file keeps hydra-optuna-sweeper's keys (`name`, `best_params`, `best_value`) and adds what is needed to open
the study again (`study_name`, `storage`: an RDB URL or the path of a Journal file, see
`trainlab.sweeps.storage.open_storage`) and how its trials ended.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import optuna
import yaml

RESULTS_FILE = "optimization_results.yaml"


def summary(study: optuna.Study, storage: str, metric: str) -> dict[str, Any]:
    """What the sweep found: the best trial (None when no trial completed) and the count of trials per state."""
    states = Counter(t.state.name.lower() for t in study.get_trials(deepcopy=False))
    completed = states.get("complete", 0) > 0
    best = study.best_trial if completed else None
    return {
        "name": "optuna",
        "best_params": dict(best.params) if best else None,
        "best_value": best.value if best else None,
        "best_trial": best.number if best else None,
        "optimized_metric": metric,
        "direction": study.direction.name.lower(),
        "study_name": study.study_name,
        "storage": storage,
        "n_trials": sum(states.values()),
        "trials": dict(sorted(states.items())),
    }


def write_results(sweep_dir: Path, results: dict[str, Any]) -> Path:
    path = sweep_dir / RESULTS_FILE
    path.write_text(yaml.safe_dump(results, sort_keys=False))
    return path


def best_line(results: dict[str, Any]) -> str:
    """One line for the console: the best trial's value and parameters, or why there is none."""
    counts = ", ".join(f"{n} {state}" for state, n in results["trials"].items())
    if results["best_value"] is None:
        return f"optuna: no trial completed ({counts})"
    params = " ".join(f"{k}={v}" for k, v in results["best_params"].items())
    return (
        f"optuna: best trial {results['best_trial']}: {results['optimized_metric']}={results['best_value']:.4f}  "
        f"{params}  ({counts})"
    )
