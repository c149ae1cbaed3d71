"""The diagnostics' callbacks, built from the `diagnostics` config group alone (conf/diagnostics/), so that the
group is its own switch: `diagnostics=none` turns them off, and `callbacks=none` (no checkpoints, bar, summary)
leaves them on. Only the monitors that are on are built: `diagnostics=none` adds no callback at all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightning.pytorch.callbacks import Callback

from trainlab.diagnostics.activations import ActivationMonitor
from trainlab.diagnostics.curves import LearningCurves
from trainlab.diagnostics.ewma import LossEWMA
from trainlab.diagnostics.gradients import GradientFlow
from trainlab.diagnostics.steps import StepCount


def diagnostics_callbacks(settings: Mapping[str, Any] | None) -> list[Callback]:
    """The callbacks of the `diagnostics` settings that are on (none without settings: eval and predict)."""
    if not settings:
        return []
    callbacks: list[Callback] = []
    if settings.get("curves"):
        callbacks.append(
            LearningCurves(
                verdict=bool(settings.get("verdict")),
                reference_error=settings.get("reference_error", 0.0),
                bias_threshold=settings.get("bias_threshold", 0.02),
                variance_threshold=settings.get("variance_threshold", 0.02),
            )
        )
    gradients = settings.get("gradients") or {}
    if gradients.get("every_n_steps"):
        callbacks.append(
            GradientFlow(
                every_n_steps=gradients["every_n_steps"],
                vanishing_ratio=gradients.get("vanishing_ratio", 1e-3),
                exploding_factor=gradients.get("exploding_factor", 1e3),
            )
        )
    activations = settings.get("activations") or {}
    if activations.get("every_n_epochs"):
        callbacks.append(
            ActivationMonitor(
                every_n_epochs=activations["every_n_epochs"],
                saturation_margin=activations.get("saturation_margin", 0.05),
            )
        )
    if settings.get("ewma_beta") is not None:
        callbacks.append(LossEWMA(beta=settings["ewma_beta"]))
    if settings.get("steps"):
        callbacks.append(StepCount())
    return callbacks
