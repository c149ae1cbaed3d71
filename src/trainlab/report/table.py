"""The report's tables: jobs ranked by the optimized metric, and for k-fold or seed sweeps the mean ± std over
folds or seeds."""

from __future__ import annotations

import csv
import statistics
from pathlib import Path
from typing import Any

from trainlab.report.collect import Sweep, finite
from trainlab.sweep_summary import Job, minimize, ranked

FOLD_KEY = "data.fold"
SEED_KEY = "seed"


def job_rows(sweep: Sweep) -> list[dict[str, str]]:
    """One row per job, best first (`sweep_summary.ranked`): completed jobs by the metric, then the others."""
    rows = []
    for rank, job in enumerate(ranked(sweep.jobs, sweep.metric), start=1):
        status = sweep.status(job)
        scored = status == "completed" and finite(job.metrics.get(sweep.metric))
        rows.append(
            {
                "rank": str(rank) if scored else "-",
                "job": job.dir.name,
                "overrides": " ".join(short(o) for o in sweep.changed[job.dir]) or "(none)",
                sweep.metric: number(job.metrics.get(sweep.metric)),
                "test/acc": number(job.metrics.get("test/acc")),
                "epochs": number(job.metrics.get("epochs")),
                "fit_seconds": number(job.metrics.get("fit_seconds"), 1),
                "status": status,
            }
        )
    return rows


def fold_rows(sweep: Sweep) -> list[dict[str, str]]:
    """For a sweep over `data.fold`: one row per setting of the other swept keys, with the mean ± std (sample std)
    over its completed folds of the metric and test/acc. Empty for sweeps without folds."""
    return replicate_rows(sweep, FOLD_KEY, "folds")


def seed_rows(sweep: Sweep) -> list[dict[str, str]]:
    """The same over `seed` (`seed=0,1,2`): each setting's mean ± std over its seeds. Empty without a seed sweep."""
    return replicate_rows(sweep, SEED_KEY, "seeds")


def replicate_rows(sweep: Sweep, key: str, label: str) -> list[dict[str, str]]:
    """One row per setting of the swept keys other than `key`, with the mean ± std over its completed jobs."""
    groups: dict[str, list[Job]] = {}
    for job in sweep.jobs:
        overrides = sweep.changed[job.dir]
        if not any(o.split("=", 1)[0] == key for o in overrides):
            continue
        rest = " ".join(o for o in overrides if o.split("=", 1)[0] != key) or f"(all {label})"
        groups.setdefault(rest, []).append(job)
    rows = []
    for setting, jobs in groups.items():
        done = [j for j in jobs if sweep.status(j) == "completed"]
        rows.append(
            {
                "setting": setting,
                label: f"{len(done)}/{len(jobs)}",
                sweep.metric: mean_std([j.metrics.get(sweep.metric) for j in done]),
                "test/acc": mean_std([j.metrics.get("test/acc") for j in done]),
            }
        )
    return rows


def short(override: str) -> str:
    """`optimizer.lr=0.0022881136684755237` → `optimizer.lr=0.002288`: sampled floats to 4 significant digits (the
    exact value stays in the job's .hydra/overrides.yaml); anything else as it was typed."""
    key, sep, value = override.partition("=")
    try:
        number = float(value)
    except ValueError:
        return override
    digits = value.lstrip("+-").replace(".", "").lstrip("0")
    return f"{key}{sep}{number:.4g}" if "." in value and len(digits) > 4 and "e" not in value.lower() else override


def mean_std(values: list[Any]) -> str:
    """`mean ± std` of the finite values (std: sample standard deviation, 0 for a single value)."""
    xs = [float(v) for v in values if finite(v)]
    if not xs:
        return ""
    std = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.fmean(xs):.4f} ± {std:.4f}"


def number(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "" if value is None else str(value)


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def markdown(rows: list[dict[str, str]]) -> str:
    """A GitHub-flavoured Markdown table (`|` in cells escaped)."""
    columns = list(rows[0])
    right = {c for c in columns if c not in ("overrides", "status", "setting")}

    def cells(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    rule = "|" + "|".join("---:" if c in right else "---" for c in columns) + "|"
    return "\n".join([cells(columns), rule, *(cells([row[c] for c in columns]) for row in rows)])


def print_rich(title: str, rows: list[dict[str, str]]) -> None:
    """The table on the console with rich (plain text when the output is not a terminal)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for column in rows[0]:
        numeric = column not in ("overrides", "status", "setting")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(Text(value) for value in row.values()))  # `[dropout,l2]` is text, not markup
    Console(width=max(120, Console().width)).print(table)


def ranking_note(metric: str) -> str:
    return f"ranked by {metric} ({'lowest' if minimize(metric) else 'highest'} first)"
