"""Do parallel sweep jobs share the cores, or fight over them? Fit speed of one job alone against two at once.

Three whole commands, in turn each round, all with the same recipe (default MNIST MLP, `trainer.max_epochs`):
- `alone`: one job, `threads=1` (a plain run);
- `parallel`: `-m hydra/launcher=parallel hydra.launcher.n_jobs=2 seed=0,1`, `threads` left at its default
  (cores ÷ n_jobs = 1 on 2 cores);
- `oversubscribed`: the same sweep with `threads=2`: what every job did before the `threads` key (each takes all
  the cores).
Speed is each job's training examples per second of fit (`fit_seconds` in its metrics.json), so start-up and the
final test do not count. A parallel job is fair when it keeps ≥ 0.8× the speed of the job alone.

    TRAINLAB_DATA_DIR=../shared/data python benchmarks/parallel_jobs.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN_EXAMPLES = 55_000


def run(args: list[str], out: Path, cache: Path, multirun: bool) -> list[float]:
    """Run `src/train.py args` with its output under `out`; the fit speed (examples/s) of each job."""
    where = f"hydra.sweep.dir={out}" if multirun else f"hydra.run.dir={out}"
    cmd = [sys.executable, "src/train.py", *args, where, f"data.cache_dir={cache}", "print_config=false"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    speeds = []
    for path in sorted(out.rglob("metrics.json")):
        metrics = json.loads(path.read_text())
        speeds.append(TRAIN_EXAMPLES * metrics["epochs"] / metrics["fit_seconds"])
    return speeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    opts = parser.parse_args()
    epochs = f"trainer.max_epochs={opts.epochs}"
    sweep = ["-m", "hydra/launcher=parallel", "hydra.launcher.n_jobs=2", "seed=0,1", epochs]
    commands = {
        "alone": ([epochs, "threads=1"], False),
        "parallel": (sweep, True),
        "oversubscribed": ([*sweep, "threads=2"], True),
    }
    speeds: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        run([epochs, "trainer.limit_train_batches=1"], Path(tmp) / "warmup", cache, False)  # decode MNIST once
        for r in range(opts.rounds):
            for name, (args, multirun) in commands.items():
                got = run(args, Path(tmp) / f"{name}{r}", cache, multirun)
                speeds[name] += got
                print(f"round {r} {name:15s} " + " ".join(f"{s:8.0f}" for s in got) + " examples/s", flush=True)
    alone = statistics.median(speeds["alone"])
    print(f"\n{platform.node()} {os.cpu_count()} cores, {opts.rounds} rounds, {opts.epochs} epochs; medians:")
    for name, values in speeds.items():
        median = statistics.median(values)
        print(f"  {name:15s} {median:8.0f} examples/s per job  ({median / alone:.2f}× the job alone)")


if __name__ == "__main__":
    main()
