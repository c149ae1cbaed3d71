"""Keep Python's garbage collector off the objects that imports create.

After `import lightning` the process holds a few million objects (torch, sympy, Lightning, torchmetrics) that live
until exit. CPython's collector walks all of them at every full collection and once more at exit: on a 2-core
machine that is ~1 s of every run (0.9 s of it after the final table, at exit). `gc.freeze()` moves the objects
alive now into a generation the collector never walks; objects made later are collected as usual.

The imports themselves trigger collections too: `import lightning` runs ~6 full ones on the way, each walking
everything imported so far, ~0.5–1 s on that machine. `pause_collection()` turns the collector off before them and
`freeze_imported_objects()` turns it back on; the few thousand objects the imports leave as garbage in between
(~13,000, a few MB) are frozen with the rest.
"""

from __future__ import annotations

import gc

_frozen = False
_paused = False


def pause_collection() -> None:
    """Turn the collector off until `freeze_imported_objects` (if it is on): call it right before the heavy imports."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def freeze_imported_objects() -> None:
    """Freeze what is alive now, once per process: call it right after the heavy imports, before any data or model
    exists. Not again later: the next job of a multirun would freeze the previous job's garbage for good."""
    global _frozen, _paused
    if not _frozen:
        gc.freeze()
        _frozen = True
    if _paused:
        gc.enable()
        _paused = False
