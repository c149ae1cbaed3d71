"""Time the whole command `python src/train.py` against a plain PyTorch script with the same recipe.

Both run as whole processes (interpreter start, imports, data load, fit with validation each epoch, final test),
alternating round by round so that machine noise hits both alike. The plain script (`plain_default.py`) gets the
recipe of the composed default config: batch size, epochs, optimizer and lr, per-step schedule, batch norm.
trainlab runs exactly as typed, `python src/train.py` with no override (seed 0; another `--seed` or override adds
the command-line check that any override costs), from a temporary copy of the repo's `src/` and `conf/`: its run
dirs and decoded-MNIST cache land in the copy, nothing in the repo.

    TRAINLAB_DATA_DIR=../shared/data python benchmarks/default_run.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[1]


def default_recipe(overrides: list[str]) -> list[str]:
    """plain_default.py's arguments for the recipe of `python src/train.py <overrides>`."""
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    optimizer = cfg.optimizer._target_.rsplit(".", 1)[-1]
    scheduler = cfg.scheduler.get("_target_", "").rsplit(".", 1)[-1]
    schedule = {"CosineAnnealingLR": "cosine", "OneCycleLR": "onecycle"}.get(scheduler)
    if optimizer not in ("Adam", "AdamW") or schedule is None or cfg.scheduler.get("eta_min", 0.0) != 0.0:
        sys.exit(f"plain_default.py implements Adam/AdamW, cosine or one-cycle only: not {optimizer}, {cfg.scheduler}")
    reg = cfg.regularization
    extras = [reg.weight_decay, reg.dropout, reg.l1, reg.l2, reg.label_smoothing, reg.augment, reg.early_stopping]
    model, normalize = cfg.model, cfg.data.normalize
    plain_net = model.get("hidden") == [256, 256] and model.get("activation") == "relu" and normalize == "standardize"
    if any(extras) or reg.batchnorm_order != "before_activation" or not plain_net:
        sys.exit("plain_default.py implements the 784-256-256-10 ReLU MLP (batch norm or not), standardized inputs")
    recipe = ["--batch-size", str(cfg.data.batch_size), "--epochs", str(cfg.trainer.max_epochs)]
    recipe += ["--optimizer", optimizer, "--lr", str(cfg.optimizer.lr), "--schedule", schedule]
    recipe += ["--val-size", str(cfg.data.val_size)]
    recipe += ["--fused" if cfg.optimizer.get("fused") else "--no-fused"]
    return recipe + (["--batchnorm"] if cfg.regularization.batchnorm else ["--no-batchnorm"])


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds of one whole process, and its stdout (the process must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("overrides", nargs="*", help="trainlab overrides, given to both sides' recipe")
    args = parser.parse_args()
    if "TRAINLAB_DATA_DIR" not in os.environ:
        sys.exit("set TRAINLAB_DATA_DIR to a folder with mnist/ (e.g. ../shared/data)")
    os.environ["TRAINLAB_DATA_DIR"] = str(Path(os.environ["TRAINLAB_DATA_DIR"]).resolve())  # the runs start elsewhere
    recipe = default_recipe([f"seed={args.seed}", *args.overrides])
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        for part in ("src", "conf"):
            shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        typed = [sys.executable, "src/train.py", *([f"seed={args.seed}"] if args.seed else []), *args.overrides]

        def trainlab() -> tuple[float, Path]:
            seconds, out = timed(typed, copy)
            return seconds, Path(re.search(r"metrics written to (\S+)", out).group(1))

        trainlab()  # decodes MNIST into <copy>/data/cache once; both sides then load it
        (cache_file,) = (copy / "data" / "cache").glob("mnist-*.pt")
        plain_cmd = [sys.executable, str(ROOT / "benchmarks" / "plain_default.py"), "--cache-file", str(cache_file)]
        plain_cmd += ["--seed", str(args.seed), *recipe]
        plain_times, ours_times, plain_accs, ours_accs = [], [], [], []
        for i in range(args.rounds):
            seconds, out = timed(plain_cmd, copy)
            plain_times.append(seconds)
            plain_accs.append(float(re.search(r"test acc ([0-9.]+)", out).group(1)))
            seconds, metrics = trainlab()
            ours_times.append(seconds)
            ours_accs.append(json.loads((copy / metrics).read_text())["test/acc"])
            print(f"round {i}: plain {plain_times[-1]:.2f} s, trainlab {ours_times[-1]:.2f} s", flush=True)
    p, t = statistics.median(plain_times), statistics.median(ours_times)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus")
    print(f"recipe: {' '.join(recipe)} (seed {args.seed})")
    print(f"plain script:       median {p:.2f} s wall, test acc {' '.join(f'{a:.4f}' for a in plain_accs)}")
    print(f"python src/train.py: median {t:.2f} s wall, test acc {' '.join(f'{a:.4f}' for a in ours_accs)}")
    print(f"ratio trainlab / plain: {t / p:.2f}")
    # Each round's own ratio: the two runs of a round are seconds apart, so a slow spell of the machine that lasts
    # longer than a round cancels out of it, where it can move one side's median and not the other's.
    paired = [ours / plain for plain, ours in zip(plain_times, ours_times, strict=True)]
    print(f"round by round: median {statistics.median(paired):.2f} ({min(paired):.2f}–{max(paired):.2f})")


if __name__ == "__main__":
    main()
