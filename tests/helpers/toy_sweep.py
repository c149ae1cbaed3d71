"""A toy Hydra app swept by trainlab's Optuna sweeper in the fast tests: a deterministic objective, no torch.

The objective climbs to `x` over `steps` steps (value x·(s+1)/steps at step s), reporting each step to the job's
trial as trainlab's pruning callback does, so a small `x` is hopeless from the first step. `fail_x` makes the job
with that `x` raise. Each job writes `steps.json` (the steps it ran, its pid) into its own dir.
"""

import json
import os
import time
from pathlib import Path

import hydra
import optuna
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from trainlab.sweeps.trial import current_trial, should_stop


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


if __name__ == "__main__":
    main()
