"""The table a sweep ends with: its jobs ranked by the metric the sweep optimizes.

A Hydra callback (conf/hydra/default.yaml, `hydra.callbacks.sweep_summary`): when a multirun ends, it reads each
job's `metrics.json` and `.hydra/overrides.yaml` from the sweep dir, so it works the same for every launcher
(basic, joblib, submitit), and prints and writes `<sweep dir>/summary.csv`. Jobs that failed or diverged are
listed last, with their status. Torch-free: it runs in the process that launched the sweep.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

SUMMARY_FILE = "summary.csv"


@dataclass
class Job:
    """One job of a sweep as it finished: its folder, its overrides and its final metrics (empty if none)."""

    dir: Path
    overrides: list[str]
    metrics: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.metrics.get("status", "failed"))  # no metrics.json: the job failed before writing it


def minimize(metric: str) -> bool:
    """Whether a smaller `metric` is better: losses and errors (rmse, mae) are minimized, everything else maximized."""
    name = metric.rsplit("/", 1)[-1]
    return "loss" in name or "err" in name or name.startswith(("rmse", "mse", "mae"))


def read_jobs(sweep_dir: Path) -> list[Job]:
    """Every job folder under `sweep_dir` (those with `.hydra/overrides.yaml`), in job-number order."""
    jobs = []
    for overrides_file in sweep_dir.glob("*/.hydra/overrides.yaml"):
        folder = overrides_file.parent.parent
        metrics_file = folder / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        jobs.append(Job(folder, list(yaml.safe_load(overrides_file.read_text()) or []), metrics))
    return sorted(jobs, key=lambda j: (not j.dir.name.isdigit(), int(j.dir.name) if j.dir.name.isdigit() else 0))


def swept(jobs: list[Job]) -> list[list[str]]:
    """Each job's overrides less those every job shares (e.g. `trainer.max_epochs=2` given once for all)."""
    if len(jobs) < 2:
        return [job.overrides for job in jobs]
    shared = set.intersection(*(set(job.overrides) for job in jobs))
    return [[o for o in job.overrides if o not in shared] for job in jobs]


def ranked(jobs: list[Job], metric: str) -> list[Job]:
    """Completed jobs with the metric, best first; then the others (failed, diverged, interrupted) as they came."""

    def value(job: Job) -> float | None:
        v = job.metrics.get(metric)
        return float(v) if isinstance(v, int | float) and math.isfinite(v) else None

    scored = [j for j in jobs if j.status == "completed" and value(j) is not None]
    scored.sort(key=lambda j: value(j), reverse=not minimize(metric))  # type: ignore[arg-type, return-value]
    return scored + [j for j in jobs if j not in scored]


def rows(jobs: list[Job], metric: str) -> list[dict[str, str]]:
    """The summary table: rank, job number, swept overrides, the optimized metric, test/acc, status."""
    order = ranked(jobs, metric)
    changed = dict(zip((j.dir for j in jobs), swept(jobs), strict=True))
    table = []
    for rank, job in enumerate(order, start=1):
        completed = job.status == "completed" and isinstance(job.metrics.get(metric), int | float)
        table.append(
            {
                "rank": str(rank) if completed else "-",
                "job": job.dir.name,
                "overrides": " ".join(changed[job.dir]),
                metric: number(job.metrics.get(metric)),
                "test/acc": number(job.metrics.get("test/acc")),
                "status": job.status,
            }
        )
    return table


def number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else str(value))


def text_table(table: list[dict[str, str]]) -> str:
    """Columns padded to their widest cell; numbers right-aligned."""
    if not table:
        return ""
    columns = list(table[0])
    widths = {c: max(len(c), *(len(row[c]) for row in table)) for c in columns}
    right = {c for c in columns if c not in ("overrides", "status")}

    def line(cells: dict[str, str]) -> str:
        cells = [cells[c].rjust(widths[c]) if c in right else cells[c].ljust(widths[c]) for c in columns]
        return "  ".join(cells).rstrip()

    return "\n".join([line({c: c for c in columns}), *(line(row) for row in table)])


def summarize(sweep_dir: Path, metric: str) -> str:
    """Write `<sweep_dir>/summary.csv` and return the table as text (empty when the sweep has no jobs)."""
    table = rows(read_jobs(sweep_dir), metric)
    if not table:
        return ""
    with (sweep_dir / SUMMARY_FILE).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    best = "lowest" if minimize(metric) else "highest"
    return (
        f"sweep summary: {len(table)} jobs ranked by {metric} ({best} first)\n"
        f"{text_table(table)}\n"
        f"written to {sweep_dir / SUMMARY_FILE}"
    )


def diverged_line(sweep_dir: Path) -> str | None:
    """One line naming the sweep's diverged jobs and their swept overrides, or None when none diverged."""
    jobs = read_jobs(sweep_dir)
    bad = [(job, changed) for job, changed in zip(jobs, swept(jobs), strict=True) if job.status == "diverged"]
    if not bad:
        return None
    named = ", ".join(f"job {job.dir.name} ({' '.join(changed) or 'no swept override'})" for job, changed in bad)
    return f"error: {len(bad)} of {len(jobs)} jobs diverged: {named}; each job's metrics.json says where"


class SweepSummary(Callback):
    """Prints the ranked table of a sweep's jobs when the sweep ends, and writes it as `summary.csv`.

    A grid or list sweep (Hydra's basic sweeper, any launcher) in which a job diverged then ends with one line and
    exit 1; the Optuna sweeper has its own failure policy (`hydra.sweeper.max_failure_rate`).
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        if not sweep_dir.is_dir():
            return
        report = summarize(sweep_dir, str(config.get("optimized_metric") or "val/acc_best"))
        if report:
            print(report, flush=True)
        sweeper = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
        if sweeper.endswith(".BasicSweeper") and (line := diverged_line(sweep_dir)):
            # Exit here: Hydra turns a callback's exception into a warning, and the sweep would end with 0.
            print(line, file=sys.stderr, flush=True)
            sys.exit(1)
