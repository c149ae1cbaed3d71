"""Modules that trainlab's dependencies import eagerly but a run rarely uses, loaded on first use instead.

`import lightning` imports torchmetrics, whose `__init__` runs `import scipy.signal` whenever SciPy is installed
(scikit-learn brings it) only to add a `hamming` alias: ~0.7 s of a 2-core machine's start-up, on every run, for a
module no default run touches. Its `utilities.plot` module likewise imports matplotlib (with pyplot: ~0.4 s) for
`Metric.plot`, which trainlab never calls; trainlab draws its PNGs in a separate process (`diagnostics/drawer.py`).
`defer("scipy.signal", hamming=…)` puts a stand-in into `sys.modules` that holds the given attributes and loads the
real module the first time anything else is read from it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any


class DeferredModule(types.ModuleType):
    """Stands in for module `name` until an attribute it does not hold is read; then loads the real one."""

    def __getattr__(self, attr: str) -> Any:  # only for attributes missing from the stand-in's __dict__
        real = self._load()
        return getattr(real, attr)

    def _load(self) -> types.ModuleType:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        preset = {k: v for k, v in self.__dict__.items() if not k.startswith("__")}
        for key, value in preset.items():  # what the stand-in promised (torchmetrics' alias), on the real one too
            if not hasattr(real, key):
                setattr(real, key, value)
        self.__dict__.update(real.__dict__)  # later reads are plain attribute lookups
        return real


def find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of module `name`, found without importing its parent packages (which `importlib.util.find_spec`
    would do: `torchmetrics.utilities.plot`'s parents are all of torchmetrics)."""
    top, *rest = name.split(".")
    spec = importlib.util.find_spec(top)
    for part in rest:
        if spec is None or not spec.submodule_search_locations:
            return None
        spec = importlib.machinery.PathFinder.find_spec(f"{spec.name}.{part}", spec.submodule_search_locations)
    return spec


def defer(name: str, **attributes: Any) -> None:
    """Put a stand-in for `name` (holding `attributes`) into `sys.modules`, unless it is loaded or not installed."""
    if name in sys.modules:
        return
    spec = find_spec(name)
    if spec is None:
        return
    stand_in = DeferredModule(name)
    # What tools read off every module in sys.modules (inspect.getmodule reads __file__): answered without a load.
    stand_in.__dict__.update(__file__=spec.origin, __spec__=spec, __path__=spec.submodule_search_locations)
    stand_in.__dict__.update(attributes)
    sys.modules[name] = stand_in


def load(name: str) -> types.ModuleType:
    """The real module `name`, loaded now if a stand-in holds its place."""
    module = sys.modules.get(name)
    return module._load() if isinstance(module, DeferredModule) else importlib.import_module(name)


def hamming(*args: Any, **kwargs: Any) -> Any:
    """torchmetrics' alias `scipy.signal.hamming`, resolved when called."""
    return importlib.import_module("scipy.signal.windows").hamming(*args, **kwargs)


def plotting_function(name: str) -> Any:
    """A torchmetrics plotting function that loads the real `torchmetrics.utilities.plot` (and matplotlib) when
    called: for `Metric.plot`, which still works."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(load("torchmetrics.utilities.plot"), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def defer_unused_imports() -> None:
    defer("scipy.signal", hamming=hamming)
    # What torchmetrics' modules import from it: the annotation types as torchmetrics defines them when matplotlib
    # is missing, and its three plotting functions.
    defer(
        "torchmetrics.utilities.plot",
        _AX_TYPE=object,
        _CMAP_TYPE=object,
        _PLOT_OUT_TYPE=tuple[object, object],
        **{f: plotting_function(f) for f in ("plot_single_or_multi_val", "plot_confusion_matrix", "plot_curve")},
    )
