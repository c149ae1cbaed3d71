"""The report of a sweep: `python src/report.py <sweep dir>` (see `write_report`).

`collect` reads the jobs (overrides, metrics.json, per-epoch history) and the Optuna study when there is one,
`table` ranks them and writes report.csv / report.md, `plots` and `optuna_plots` draw the PNG figures. Jobs are
read the way the sweep summary reads them (`trainlab.sweep_summary`), so both rank a sweep the same.
"""

from trainlab.report.build import write_report

__all__ = ["write_report"]
