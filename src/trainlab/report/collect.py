"""Read a sweep dir: its jobs as they stand (finished or not), the metric it optimized, each job's curves."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from trainlab.config.errors import UserError
from trainlab.sweep_summary import Job, read_jobs, swept

DEFAULT_METRIC = "val/acc_best"


@dataclass
class Sweep:
    """A sweep dir read once: its jobs in job order, each job's swept overrides, and the metric it optimized."""

    dir: Path
    jobs: list[Job]
    metric: str
    changed: dict[Path, list[str]] = field(default_factory=dict)  # job dir → overrides not shared by every job
    trial_states: dict[int, str] = field(default_factory=dict)  # Optuna trial number → its state (fail, pruned, …)

    def status(self, job: Job) -> str:
        """The job's `status` from metrics.json; without one, its Optuna trial's state (failed, pruned) when the
        sweep has a study, else "unfinished" (still running, or stopped before it could write metrics.json)."""
        if "status" in job.metrics:
            return str(job.metrics["status"])
        number = int(job.dir.name) if job.dir.name.isdigit() else None
        state = self.trial_states.get(number) if number is not None else None
        return {"fail": "failed", "pruned": "pruned"}.get(state or "", "unfinished")


def read_sweep(sweep_dir: Path, metric: str | None = None) -> Sweep:
    """The sweep in `sweep_dir`; a folder that is not a sweep dir is a `UserError`."""
    if not sweep_dir.is_dir():
        raise UserError(f"{sweep_dir}: no such folder; pass a sweep dir, e.g. logs/train/multiruns/<date_time>")
    jobs = read_jobs(sweep_dir)
    if not jobs:
        raise UserError(
            f"{sweep_dir} is not a sweep dir (no <job>/.hydra/overrides.yaml in it); pass the folder of a "
            "multirun, e.g. logs/train/multiruns/<date_time>"
        )
    changed = dict(zip((j.dir for j in jobs), swept(jobs), strict=True))
    return Sweep(sweep_dir, jobs, metric or optimized_metric(sweep_dir, jobs), changed)


def optimized_metric(sweep_dir: Path, jobs: list[Job]) -> str:
    """`optimized_metric` of a job's .hydra/config.yaml, else of the sweep's multirun.yaml, resolved: its default
    interpolates the task's metric (`val/${task.monitor}_best`)."""
    for path in [*(j.dir / ".hydra" / "config.yaml" for j in jobs), sweep_dir / "multirun.yaml"]:
        if path.is_file():
            config = OmegaConf.create(yaml.safe_load(path.read_text()) or {})
            value = OmegaConf.select(config, "optimized_metric", default=None, throw_on_resolution_failure=False)
            if isinstance(value, str) and value:
                return value
    return DEFAULT_METRIC


def factors(sweep: Sweep) -> dict[str, list[str]]:
    """The swept keys and the values each took, in the order they first appear (`optimizer.lr` → ['1e-3', …])."""
    found: dict[str, list[str]] = {}
    for job in sweep.jobs:
        for override in sweep.changed[job.dir]:
            key, _, value = override.partition("=")
            values = found.setdefault(key.lstrip("+~"), [])
            if value not in values:
                values.append(value)
    return found


def history(job: Job) -> list[dict[str, float]]:
    """The job's per-epoch metrics (epoch numbered from 1): metrics.json's `history` when the run wrote one, else
    the validation rows of the CSV logger's `csv/metrics.csv` (whose epochs count from 0)."""
    logged = job.metrics.get("history")
    if isinstance(logged, list) and logged:
        return [{k: float(v) for k, v in row.items() if finite(v)} for row in logged if isinstance(row, dict)]
    path = job.dir / "csv" / "metrics.csv"
    if not path.is_file():
        return []
    by_epoch: dict[int, dict[str, float]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            values = {k: float(v) for k, v in row.items() if k and k.startswith("val/") and v not in ("", None)}
            if values and row.get("epoch") not in ("", None):
                epoch = int(float(row["epoch"])) + 1
                by_epoch.setdefault(epoch, {"epoch": float(epoch)}).update(values)
    return [by_epoch[e] for e in sorted(by_epoch)]


def finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
