"""`hydra.sweeper.pruner` → an Optuna pruner. The sweeper stores the setting in the study; each job builds the
same pruner from it, since a pruner lives in the process that asks `trial.should_prune()`, not in the storage.

A name (`median`, `successive_halving`, `hyperband`, `none`/null) takes Optuna's defaults; a mapping with
`_target_` (any `optuna.pruners` class) passes its other keys on, e.g.
`{_target_: optuna.pruners.MedianPruner, n_startup_trials: 5, n_warmup_steps: 1}`.
"""

from __future__ import annotations

from typing import Any

from trainlab.config.errors import UserError

NAMES = {
    "median": "optuna.pruners.MedianPruner",
    "successive_halving": "optuna.pruners.SuccessiveHalvingPruner",
    "hyperband": "optuna.pruners.HyperbandPruner",
    "none": "optuna.pruners.NopPruner",
}


def pruner_setting(pruner: Any) -> dict[str, Any]:
    """The pruner as plain data with a `_target_` (what the study stores for its jobs)."""
    if pruner is None:
        pruner = "none"
    if isinstance(pruner, str):
        if pruner not in NAMES:
            raise UserError(f"hydra.sweeper.pruner={pruner}: one of {', '.join(NAMES)}, or a mapping with _target_")
        return {"_target_": NAMES[pruner]}
    if isinstance(pruner, dict) and str(pruner.get("_target_", "")).startswith("optuna.pruners."):
        return dict(pruner)
    raise UserError(
        f"hydra.sweeper.pruner={pruner}: one of {', '.join(NAMES)}, or a mapping with _target_: optuna.pruners.…"
    )


def build_pruner(setting: dict[str, Any] | None) -> Any:
    """The pruner a stored setting describes (NopPruner when there is none)."""
    from hydra.utils import instantiate

    try:
        return instantiate(setting or {"_target_": NAMES["none"]})
    except Exception as err:
        cause = err.__cause__ or err
        raise UserError(f"hydra.sweeper.pruner={setting}: {str(cause).splitlines()[0]}") from err
