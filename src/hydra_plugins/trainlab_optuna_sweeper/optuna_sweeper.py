"""The Hydra `Sweeper` plugin: `_target_: hydra_plugins.trainlab_optuna_sweeper.optuna_sweeper.OptunaSweeper`.

Hydra imports every module under `hydra_plugins` at start-up, for every run: this one stays light (Optuna and the
sweep loop are imported when a sweep is built). It takes hydra-optuna-sweeper's settings, so a config written for
that plugin works after changing its `_target_` to the one above.
"""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class OptunaSweeper(Sweeper):
    """Hands every call to `trainlab.sweeps.sweeper.OptunaSweeper`."""

    def __init__(self, **settings: Any) -> None:
        from trainlab.config.cli import run_reporting_errors
        from trainlab.sweeps.sweeper import OptunaSweeper as Impl

        self.sweeper = run_reporting_errors(lambda: Impl(**settings))

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        from trainlab.config.cli import run_reporting_errors

        return run_reporting_errors(lambda: self.sweeper.sweep(arguments))
