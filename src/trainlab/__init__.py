"""trainlab: study why networks generalize, one config switch at a time."""

from trainlab.deferred_imports import defer_unused_imports

__version__ = "0.1.0"

defer_unused_imports()  # before any entry point imports lightning (and with it torchmetrics)
