"""Each job's torch thread count (the top-level key `threads`), so that parallel jobs never oversubscribe the cores.

torch starts one thread per core in every process: two parallel jobs on 2 cores then run 4 threads that keep
stealing the cores from each other, ~10× slower than one thread each. `threads: null` (the default) takes the
cores this process may use ÷ the jobs running at once: the joblib launcher's `n_jobs`; a submitit job gets its
`cpus_per_task`; any other run, all the cores.
"""

from __future__ import annotations

import os
from typing import Any

from trainlab.config.errors import UserError


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a SLURM or container limit), else all of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def launcher_config() -> Any:
    """`hydra.launcher` of the running job, or None outside a Hydra multirun."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return HydraConfig.get().launcher


def default_threads(cores: int | None = None, launcher: Any = None) -> int:
    """Cores ÷ parallel jobs (at least 1), or a submitit job's `cpus_per_task`."""
    cores = cores or usable_cores()
    target = str(launcher.get("_target_", "")) if launcher is not None else ""
    if "submitit" in target and launcher.get("cpus_per_task"):
        return int(launcher.get("cpus_per_task"))
    if "joblib" in target:
        n_jobs = int(launcher.get("n_jobs") or 1)
        parallel = cores + 1 + n_jobs if n_jobs < 0 else n_jobs  # joblib's -1: as many as cores
        return max(1, cores // max(1, min(parallel, cores)))
    return cores


def set_threads(cfg: Any) -> int:
    """`torch.set_num_threads` for this job: `threads` when set, else the default above; returns the count."""
    import torch

    threads = cfg.get("threads")
    if threads is None:
        threads = default_threads(launcher=launcher_config())
    elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UserError(f"threads={threads}: a whole number ≥ 1, or null for cores ÷ parallel jobs")
    torch.set_num_threads(threads)
    return threads
