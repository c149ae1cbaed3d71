"""Report on a sweep: `python src/report.py logs/train/multiruns/<date_time>`.

Writes report.md, report.csv and PNG plots into the sweep dir and prints the ranked table (see
`trainlab.report`). It reads files only (no Hydra run, no torch), so it works on a sweep that is still running.
"""

import argparse
from pathlib import Path

from trainlab.config.cli import run_reporting_errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path, help="the sweep's folder, e.g. logs/train/multiruns/<date_time>")
    parser.add_argument("--metric", help="rank by this metric (default: the sweep's optimized_metric)")
    args = parser.parse_args()

    def task() -> None:
        from trainlab.report import write_report

        write_report(args.sweep_dir, args.metric)

    run_reporting_errors(task)


if __name__ == "__main__":
    main()
