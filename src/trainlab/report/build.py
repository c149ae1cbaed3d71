"""`write_report`: everything `python src/report.py <sweep dir>` writes into the sweep dir, and the table it prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trainlab.report import optuna_plots, plots
from trainlab.report.collect import read_sweep
from trainlab.report.table import fold_rows, job_rows, markdown, print_rich, ranking_note, seed_rows, write_csv

REPORT_MD, REPORT_CSV = "report.md", "report.csv"


@dataclass
class Report:
    """What was written: the ranked rows, the k-fold and seed rows (if any), the figures, and notes on what was left
    out."""

    rows: list[dict[str, str]]
    folds: list[dict[str, str]]
    seeds: list[dict[str, str]] = field(default_factory=list)  # a sweep over `seed`: mean ± std per setting
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_report(sweep_dir: Path, metric: str | None = None, show: bool = True) -> Report:
    """Read the sweep in `sweep_dir` (finished or not) and write report.md, report.csv and the PNG plots there."""
    sweep = read_sweep(sweep_dir, metric)
    study = optuna_plots.find_study(sweep_dir)
    if study is not None:
        sweep.trial_states = optuna_plots.trial_states(sweep, study)
    report = Report(job_rows(sweep), fold_rows(sweep), seed_rows(sweep))
    curves = plots.plot_curves(sweep)
    if curves is None:
        report.notes.append(f"{plots.CURVES_FILE}: not drawn (no job has a metrics.json history or csv/metrics.csv)")
    heatmap = plots.plot_heatmap(sweep)
    report.figures += [figure for figure in (curves, heatmap) if figure is not None]
    if study is not None:
        written, skipped = optuna_plots.plot_study(study, sweep_dir, sweep.metric)
        report.figures += written
        report.notes += skipped
    write_csv(sweep_dir / REPORT_CSV, report.rows)
    title = f"{len(report.rows)} jobs {ranking_note(sweep.metric)}"
    (sweep_dir / REPORT_MD).write_text(report_markdown(sweep_dir, title, report, study))
    if show:
        print_rich(f"sweep report: {title}", report.rows)
        if report.folds:
            print_rich("cross-validation: mean ± std over folds", report.folds)
        if report.seeds:
            print_rich("seeds: mean ± std over seeds", report.seeds)
        for note in report.notes:
            print(note)
        print(f"written to {sweep_dir}: {REPORT_MD}, {REPORT_CSV}, {', '.join(f.name for f in report.figures)}")
    return report


def report_markdown(sweep_dir: Path, title: str, report: Report, study: object | None) -> str:
    counts: dict[str, int] = {}
    for row in report.rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    lines = [f"# Sweep report: {sweep_dir.name}", "", f"{title}; " + ", ".join(f"{n} {s}" for s, n in counts.items())]
    lines += ["", markdown(report.rows)]
    if report.folds:
        lines += ["", "## Cross-validation (mean ± std over folds)", "", markdown(report.folds)]
    if report.seeds:
        lines += ["", "## Seeds (mean ± std over seeds)", "", markdown(report.seeds)]
    if study is not None:
        lines += ["", f"Optuna study `{getattr(study, 'study_name', '')}`."]
    if report.figures:
        lines += ["", "## Plots", ""] + [f"![{f.stem}]({f.name})" for f in report.figures]
    if report.notes:
        lines += ["", *(f"- {note}" for note in report.notes)]
    return "\n".join(lines) + "\n"
