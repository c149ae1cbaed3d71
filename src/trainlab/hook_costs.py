"""Fixed costs of Lightning's hook calls, cut without changing what the hooks do.

Lightning calls about 25 hooks per training step (module, callback and strategy hooks; `trainer/call.py`). Around
each it

- sets `pl_module._current_fx_name` and restores it afterwards: `nn.Module.__setattr__` checks the value
  against parameters, buffers and submodules first (~2.4 µs on the 2-core VM against ~0.2 µs for a plain
  attribute). `FastHookName` stores this one attribute, which never holds a tensor or a module, directly;
- enters `trainer.profiler.profile(name)`, a generator-based context manager even when profiling is off
  (~1.5 µs against ~0.2 µs). `NoProfiler` is Lightning's pass-through profiler with a plain null context; the
  Trainer gets it when `trainer.profiler` is null (`debug=profiler` picks a real one).

And before each training, validation and test step it asks whether the step method takes `batch_idx`
(`is_param_in_hook_signature`): `inspect.getfullargspec` builds the method's signature anew every time (~16 µs on
the 2-core VM). `CachedStepSignatures` stores each step method's signature on the function (`__signature__`, which
`inspect` reads first: ~6 µs), once per class.

With these and `callbacks/lean.py`, a training step of `benchmarks/mnist_mlp.py --profile` makes 1,721 Python
calls, where Lightning's loop around a bare LightningModule makes 1,923 and a plain PyTorch loop 290
(`benchmarks/README.md`).
"""

from __future__ import annotations

import inspect
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from lightning.pytorch.profilers import PassThroughProfiler

_NULL = nullcontext()  # stateless: one instance serves every (nested) block

# The LightningModule methods whose signature Lightning inspects on every call.
STEP_METHODS = ("training_step", "validation_step", "test_step", "predict_step")


class FastHookName:
    """A LightningModule mixin: `_current_fx_name` set as a plain attribute (see the module's docstring)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_current_fx_name":
            self.__dict__[name] = value
        else:
            super().__setattr__(name, value)


class NoProfiler(PassThroughProfiler):
    """Lightning's `PassThroughProfiler` (what `profiler=None` gives), with a cheaper `profile` block."""

    def profile(self, action_name: str) -> AbstractContextManager[Any]:  # type: ignore[override]
        return _NULL


class CachedStepSignatures:
    """A LightningModule mixin: each step method a class defines carries its signature (see the module's
    docstring). A subclass that overrides a step method gets its own, when the subclass is created."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in STEP_METHODS:
            method = cls.__dict__.get(name)
            if inspect.isfunction(method) and "__signature__" not in method.__dict__:
                # As `getfullargspec` sees it: the function itself, not what a decorator wraps.
                method.__signature__ = inspect.signature(method, follow_wrapped=False)  # type: ignore[attr-defined]
