"""The base of trainlab's callbacks: the per-batch hooks a callback does not implement are skipped, not called.

Lightning calls each hook of every callback on every batch, each call inside a profiler context with a formatted
name: a default run has 14 callbacks and 6 batch hooks per training step, and most of those 84 calls per step do
nothing. Lightning skips a hook that is not callable (`trainer/call.py`: `if callable(fn)`), so a
`LeanCallback` sets the batch hooks its class leaves at `Callback`'s no-op to None on each instance;
`skip_unused_batch_hooks` does the same to a callback of another base (Lightning's ModelCheckpoint and progress bar),
which `build_trainer` applies to every callback it is given.
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch.callbacks import Callback

# Called once per batch (or per optimizer step) through Lightning's `_call_callback_hooks`, and nowhere else.
BATCH_HOOKS = (
    "on_train_batch_start",
    "on_train_batch_end",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
    "on_validation_batch_start",
    "on_validation_batch_end",
    "on_test_batch_start",
    "on_test_batch_end",
    "on_predict_batch_start",
    "on_predict_batch_end",
)


def skip_unused_batch_hooks(callback: Callback) -> Callback:
    """Set the batch hooks that `callback`'s class leaves at `Callback`'s no-op to None on `callback`."""
    for hook in BATCH_HOOKS:
        if getattr(type(callback), hook, None) is getattr(Callback, hook):
            setattr(callback, hook, None)
    return callback


class LeanCallback(Callback):
    """A Callback whose unimplemented batch hooks are None, so that Lightning does not call them."""

    def __new__(cls, *args: Any, **kwargs: Any) -> LeanCallback:
        return skip_unused_batch_hooks(super().__new__(cls))  # type: ignore[return-value]
