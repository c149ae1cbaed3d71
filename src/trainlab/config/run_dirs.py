"""Run-dir naming: a new timestamped folder per run, or (resume=true) the latest run of the task.

How: the run dir is chosen BEFORE Hydra makes it. `conf/hydra/default.yaml` sets
`hydra.run.dir: ${trainlab_run_dir:<log_dir>/<task>/runs,<timestamp>,${resume}}`; the resolver below returns a new
`<runs>/<timestamp>` folder normally, and, with resume=true, the run folder whose `checkpoints/last.ckpt` was
written last. So Hydra, the loggers and the checkpoints all use that folder again: nothing is copied or moved,
and an explicit `hydra.run.dir=<dir> resume=true` resumes that folder instead.
`train()` then asks `checkpoint_to_resume(cfg)` for the file to give `trainer.fit(ckpt_path=…)`; the loggers pick
up what they keep in the run dir (the W&B run id, the fixed TensorBoard and CSV folders).

A resumed run dir keeps the `.hydra/` files of its first start (the config it continues with, see
`trainlab.resume`): `hydra.output_subdir: ${trainlab_hydra_subdir:${hydra.runtime.output_dir}}` puts Hydra's files
for a run dir that already has them into `.hydra/resume-<time>/` instead, beside the originals.

This module is imported before Hydra runs (to register the resolver): it must not import torch or lightning.
"""

from __future__ import annotations

import functools
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

LAST_CKPT = Path("checkpoints") / "last.ckpt"
RESOLVER = "trainlab_run_dir"
SUBDIR_RESOLVER = "trainlab_hydra_subdir"
CWD_RESOLVER = "trainlab_cwd"


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def latest_run(runs_dir: str | Path) -> Path | None:
    """The run folder under `runs_dir` whose `checkpoints/last.ckpt` is newest, or None."""
    root = Path(runs_dir)
    if not root.is_dir():
        return None
    candidates = [d for d in root.iterdir() if (d / LAST_CKPT).is_file()]
    return max(candidates, key=lambda d: (d / LAST_CKPT).stat().st_mtime_ns, default=None)


def run_dir(runs_dir: str, new_name: str, resume: Any = False) -> str:
    """Hydra's run dir: the latest resumable run when `resume` is true (and one exists), else a new folder.

    The new folder's name is a timestamp with microseconds; should that folder exist already (another run started
    in the same microsecond, or a clock step back), this process's id is appended, so run dirs never collide.
    """
    if truthy(resume) and (latest := latest_run(runs_dir)) is not None:
        return str(latest)
    new = Path(runs_dir) / str(new_name)
    if new.exists():
        new = new.with_name(f"{new.name}_{os.getpid()}")
    return str(new)


@functools.cache
def resolve_run_dir(runs_dir: str, new_name: str, resume: Any = False) -> str:
    """`run_dir`, answered once per process: Hydra resolves `hydra.run.dir` again after making the folder (e.g.
    Lightning's DDP launcher reads it to start the other ranks there), and must get the same folder back."""
    return run_dir(runs_dir, new_name, resume)


@functools.cache
def hydra_subdir(output_dir: str) -> str:
    """Where Hydra saves this job's config, overrides and hydra.yaml, relative to `output_dir`: `.hydra` for a new
    run dir; `.hydra/resume-<time>` when `.hydra/config.yaml` is there already (a resumed run), so the config the
    run continues with is never overwritten. One answer per process and folder: asked again once Hydra has
    written the files, it must not change its mind."""
    if (Path(output_dir) / ".hydra" / "config.yaml").is_file():
        return f".hydra/resume-{datetime.now():%Y-%m-%d_%H-%M-%S_%f}"
    return ".hydra"


def current_dir() -> str:
    """`${trainlab_cwd:}` (conf/paths/default.yaml): the folder the command runs from.

    Hydra's `${hydra:runtime.cwd}` is the same folder but only resolves once a job has started; every launcher
    resolves `hydra.sweep.dir` (which is under `paths.log_dir`) before that, so a sweep needs this one.
    """
    return os.getcwd()


def register_resolver() -> None:
    """Make `${trainlab_run_dir:…}`, `${trainlab_hydra_subdir:…}` and `${trainlab_cwd:}` available to the Hydra
    config.

    Called when this module is imported (so a launcher's worker process, which imports trainlab to run a job, has
    them too) and again by the entry points before `@hydra.main` runs.
    """
    for name, resolver in ((RESOLVER, resolve_run_dir), (SUBDIR_RESOLVER, hydra_subdir), (CWD_RESOLVER, current_dir)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)


register_resolver()


def is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
