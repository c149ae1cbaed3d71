"""What a run prints, kept readable: Lightning's ads and known-harmless warnings filtered out, and whether the
console is a terminal (a file, CI or a SLURM log gets no progress-bar redraws and full-width tables).

Torch-free: the entry points may call it before anything heavy is imported.
"""

from __future__ import annotations

import logging
import sys
import warnings

# Python warnings that say nothing to a trainlab user, matched by the start of their message.
HARMLESS_WARNINGS = (
    # Lightning's own use of a deprecated torch._pytree API (lightning/pytorch/utilities/_pytree.py).
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    # trainlab logs its metrics once per epoch, so Lightning's per-step logging interval does not matter.
    r"The number of training batches \(\d+\) is smaller than the logging interval",
)

# Lightning info lines that are advertisements or say nothing a run's user can act on (matched by their start).
LIGHTNING_NOISE = (
    "💡 Tip:",
    "TPU available:",
    "HPU available:",
    "Loading `train_dataloader` to estimate number of stepping batches",
    "Trainer already configured with model summary callbacks",
    # The epoch lines already end with `epoch 8/8`; testing the best checkpoint says "Restoring states …" once.
    "`Trainer.fit` stopped: `max_epochs=",
    "Loaded model weights from the checkpoint at",
)
LIGHTNING_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


def is_terminal() -> bool:
    """Whether stdout is a terminal (not a file, a pipe, CI or a SLURM log): progress bars only then."""
    return sys.stdout.isatty()


class DropLines(logging.Filter):
    """Drop the log records whose message starts with one of `prefixes`."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


def quiet_known_noise() -> None:
    """Filter Lightning's ads and the known-harmless warnings (idempotent: safe to call once per job of a sweep)."""
    for pattern in HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    for name in LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropLines) for f in logger.filters):
            logger.addFilter(DropLines(LIGHTNING_NOISE))
    # pooch announces every download attempt on its own logger; trainlab reports a failed one itself.
    import pooch

    pooch.get_logger().setLevel(logging.WARNING)
