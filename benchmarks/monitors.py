"""What the diagnostics cost: the whole command `python src/train.py` with the diagnostics on (the default) against
`python src/train.py diagnostics=none`, as whole processes, alternating round by round so that machine noise hits
both alike. Wall time and the process's CPU time (user + system, the drawing process's included: less sensitive to
other jobs on the machine) are reported as medians, and the on/off ratio both as the ratio of the medians and as the
median of each round's ratio (the pair run back to back: robust to the machine's speed drifting between rounds).
Run dirs (and the decoded-MNIST cache, unless --cache-dir is given) go to a temporary folder.

Then one more run with Lightning's SimpleProfiler (`debug=profiler`, at the default epochs) gives what no round-to-
round comparison can resolve on a noisy machine: the seconds the diagnostics' own hooks take in the training
process, against the profiler's total for the fit. (The PNGs are drawn in the drawing process, beside it.)

    TRAINLAB_DATA_DIR=../shared/data python benchmarks/monitors.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIAGNOSTICS = ("LearningCurves", "GradientFlow", "ActivationMonitor", "LossEWMA", "StepCount")  # their callbacks


def hook_seconds(report: Path) -> tuple[float, float, dict[str, float]]:
    """From a SimpleProfiler report: its total, the diagnostics callbacks' hooks' sum, and each hook's seconds."""
    total, hooks = 0.0, {}
    for line in report.read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) < 6:
            continue
        if cells[1] == "Total":
            total = float(cells[4])
        elif cells[1].startswith("[Callback]") and cells[1].removeprefix("[Callback]").startswith(DIAGNOSTICS):
            hooks[cells[1].removeprefix("[Callback]")] = float(cells[4])
    return total, sum(hooks.values()), hooks


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one whole process, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=None, help="a decoded-MNIST cache to reuse (no warm-up run)")
    parser.add_argument("overrides", nargs="*", help="trainlab overrides, given to both sides")
    args = parser.parse_args()
    if "TRAINLAB_DATA_DIR" not in os.environ:
        sys.exit("set TRAINLAB_DATA_DIR to a folder with mnist/ (e.g. ../shared/data)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cache = args.cache_dir or work / "cache"

        def command(name: str, *extra: str) -> list[str]:
            run = [f"hydra.run.dir={work / name}", f"paths.cache_dir={cache}", *args.overrides, *extra]
            return [sys.executable, str(ROOT / "src" / "train.py"), *run]

        if args.cache_dir is None:
            timed(command("warmup", "diagnostics=none"))  # decodes MNIST into the cache once
        sides = {"on": (), "off": ("diagnostics=none",)}
        times: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
        accs: dict[str, list[float]] = {side: [] for side in sides}
        for i in range(args.rounds):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))  # alternate which goes first
            for side in order:
                times[side].append(timed(command(f"{side}{i}", *sides[side])))
                accs[side].append(json.loads((work / f"{side}{i}" / "metrics.json").read_text())["test/acc"])
            on, off = times["on"][-1], times["off"][-1]
            print(f"round {i}: on {on[0]:.2f} s wall {on[1]:.2f} s cpu, off {off[0]:.2f} s wall {off[1]:.2f} s cpu")
        epochs = json.loads((work / "on0" / "metrics.json").read_text())["epochs"]
        timed(command("profiled", "debug=profiler", f"trainer.max_epochs={epochs}"))
        total, spent, hooks = hook_seconds(work / "profiled" / "fit-profiler.txt")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, load {os.getloadavg()}")
    for side, label in (("off", "diagnostics=none"), ("on", "diagnostics on (default)")):
        wall = statistics.median(t[0] for t in times[side])
        cpu = statistics.median(t[1] for t in times[side])
        scores = " ".join(f"{a:.4f}" for a in accs[side])
        print(f"{label:<26} median {wall:.2f} s wall, {cpu:.2f} s cpu, test acc {scores}")
    for i, what in ((0, "wall"), (1, "cpu")):
        ratio = statistics.median(t[i] for t in times["on"]) / statistics.median(t[i] for t in times["off"])
        paired = statistics.median(on[i] / off[i] for on, off in zip(times["on"], times["off"], strict=True))
        print(f"ratio on / off ({what}): {ratio:.3f} of the medians, {paired:.3f} median of the rounds' ratios")
    print(f"the diagnostics' hooks in the training process (SimpleProfiler, {epochs} epochs): {spent:.3f} s", end=" ")
    print(f"of the fit's {total:.3f} s ({spent / total:.1%}); the largest:")
    for name, seconds in sorted(hooks.items(), key=lambda item: -item[1])[:5]:
        print(f"  {name:<45} {seconds:.3f} s")


if __name__ == "__main__":
    main()
