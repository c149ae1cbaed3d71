"""A toy Hydra app swept by trainlab's Optuna sweeper in the fast tests: a deterministic objective, no torch.

The objective climbs to `x` over `steps` steps (value x·(s+1)/steps at step s), reporting each step to the job's
trial as trainlab's pruning callback does, so a small `x` is hopeless from the first step. `fail_x` makes the job
with that `x` raise. Each job writes `steps.json` (the steps it ran, its pid) into its own dir.
"""

import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

import hydra
import optuna
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from trainlab.sweeps.trial import current_trial, should_stop

CONF = Path(__file__).resolve().parents[2] / "conf"  # trainlab's, for hydra/sweeper=optuna


@hydra.main(version_base="1.3", config_path=".", config_name="toy_sweep")
def main(cfg: DictConfig) -> float:
    out = Path(HydraConfig.get().runtime.output_dir)
    if cfg.fail_x is not None and cfg.x == cfg.fail_x:
        raise RuntimeError(f"toy failure at x={cfg.x}")
    trial = current_trial()
    steps = []
    value = 0.0
    try:
        for step in range(cfg.steps):
            time.sleep(cfg.sleep)
            value = cfg.x * (step + 1) / cfg.steps
            steps.append(step)
            if trial is not None and should_stop(trial, value, step):
                raise optuna.TrialPruned(f"pruned at step {step}")
    finally:
        (out / "steps.json").write_text(json.dumps({"steps": steps, "pid": os.getpid()}))
    return value


def sweep_in_process(sweep_dir: Path, *overrides: str) -> tuple[int, str, str]:
    """`python -m helpers.toy_sweep -m hydra.sweep.dir=<sweep_dir> overrides…`, in this process: (exit code,
    stdout, stderr)."""
    argv = ["toy_sweep", "-m", f"hydra.searchpath=[file://{CONF}]", f"hydra.sweep.dir={sweep_dir}", *overrides]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    old_argv, sys.argv = sys.argv, argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        sys.argv = old_argv
    return code, out.getvalue(), err.getvalue()


if __name__ == "__main__":
    main()
