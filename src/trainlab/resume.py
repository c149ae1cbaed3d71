"""Which checkpoint a run starts from: `ckpt_path`, or with resume=true the run dir's own last.ckpt.

The run dir itself is chosen before Hydra makes it (`trainlab.config.run_dirs`). Torch-free.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from trainlab.config.errors import UserError
from trainlab.config.run_dirs import LAST_CKPT, is_multirun, truthy


def checkpoint_to_resume(cfg: DictConfig) -> str | None:
    """The checkpoint `trainer.fit` starts from: `ckpt_path` when set, `<run dir>/checkpoints/last.ckpt` with
    resume=true, else None (a fresh run)."""
    explicit = cfg.get("ckpt_path")
    if not truthy(cfg.get("resume", False)):
        return explicit
    if is_multirun():
        raise UserError("resume=true continues one run; it does not apply to a multirun sweep (drop -m or resume)")
    if explicit:
        return explicit
    last = Path(cfg.paths.output_dir) / LAST_CKPT
    if not last.is_file():
        runs = Path(cfg.paths.log_dir) / str(cfg.task_name) / "runs"
        raise UserError(
            f"resume=true: nothing to resume: no run under {runs} has {LAST_CKPT.as_posix()} "
            f"(and the run dir {cfg.paths.output_dir} has none); start a run with python src/train.py, "
            "or pass ckpt_path=<file>"
        )
    return str(last)
