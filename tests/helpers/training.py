"""Training in-process through the function the `train` entry point calls, for tests that need only a run's
results (metrics.json, checkpoints, logger files): no interpreter start, no second import of torch and Lightning.

A run changes process-wide state (environment variables such as PL_GLOBAL_SEED and WANDB_DIR, deterministic
algorithms, the float32 matmul precision, the random generators, Lightning's log handlers); it is put back after
each run, so the next test starts from the state it would have had.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from helpers.config import compose_train


def read_metrics(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "metrics.json").read_text())


@contextmanager
def process_state_restored() -> Iterator[None]:
    environ = dict(os.environ)
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    matmul = torch.get_float32_matmul_precision()
    cudnn = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    rng = torch.get_rng_state(), random.getstate(), np.random.get_state()
    lightning_handlers = list(logging.getLogger("lightning").handlers)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(environ)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.set_float32_matmul_precision(matmul)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
        torch.set_rng_state(rng[0])
        random.setstate(rng[1])
        np.random.set_state(rng[2])
        logging.getLogger("lightning").handlers[:] = lightning_handlers


def train_in_process(overrides: Sequence[str], run_dir: Path, cache_dir: Path) -> dict[str, Any]:
    """What `python src/train.py hydra.run.dir=<run_dir> overrides…` does, in this process: validate the config,
    check the accelerator, `trainlab.training.train(cfg)`; return the metrics it wrote to `<run_dir>/metrics.json`.

    A user error (a bad value, a diverged run) exits as the entry point does: `SystemExit(2)` after one
    `error: …` line on stderr.
    """
    from trainlab.config.cli import run_reporting_errors
    from trainlab.hardware import check_accelerator
    from trainlab.training import train

    cfg = compose_train(list(overrides), output_dir=run_dir, cache_dir=cache_dir)

    def task() -> dict[str, Any]:
        check_accelerator(cfg.trainer.accelerator, cfg.trainer.devices)
        return train(cfg)

    with process_state_restored():
        return run_reporting_errors(task, cfg)
