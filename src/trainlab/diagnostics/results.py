"""What the diagnostics callbacks add to metrics.json: each callback with a `results()` method contributes."""

from __future__ import annotations

from typing import Any

import lightning as L


def diagnostics_results(trainer: L.Trainer) -> dict[str, Any]:
    """`history` and the `diagnosis/*` verdict (see `curves.LearningCurves.results`), from the trainer's callbacks."""
    out: dict[str, Any] = {}
    for callback in trainer.callbacks:
        results = getattr(callback, "results", None)
        if callable(results) and type(callback).__module__.startswith("trainlab.diagnostics"):
            out.update(results())
    return out
