"""What the diagnostics cost: the whole command `python src/train.py` with the diagnostics on (the default) against
`python src/train.py diagnostics=none`, as whole processes, alternating round by round so that machine noise hits
both alike. Wall time and the process's CPU time (user + system: less sensitive to other jobs on the machine) are
reported as medians. Run dirs (and the decoded-MNIST cache, unless --cache-dir is given) go to a temporary folder.

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
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, load {os.getloadavg()}")
    for side, label in (("off", "diagnostics=none"), ("on", "diagnostics on (default)")):
        wall = statistics.median(t[0] for t in times[side])
        cpu = statistics.median(t[1] for t in times[side])
        scores = " ".join(f"{a:.4f}" for a in accs[side])
        print(f"{label:<26} median {wall:.2f} s wall, {cpu:.2f} s cpu, test acc {scores}")
    for i, what in ((0, "wall"), (1, "cpu")):
        ratio = statistics.median(t[i] for t in times["on"]) / statistics.median(t[i] for t in times["off"])
        print(f"ratio on / off ({what}): {ratio:.3f}")


if __name__ == "__main__":
    main()
