"""`freeze_imported_objects`: the objects alive after the imports leave the collector's reach, once per process."""

import subprocess
import sys

CHECK = """
import gc
import torch
from trainlab.gc_freeze import freeze_imported_objects

assert gc.get_freeze_count() == 0
freeze_imported_objects()
frozen = gc.get_freeze_count()
assert frozen > 100_000, frozen  # torch's module objects, functions and classes
later = [[i] for i in range(1000)]  # a multirun's next job: made after the freeze
freeze_imported_objects()
assert gc.get_freeze_count() == frozen  # frozen once: later objects stay collectable
print(frozen)
"""


def test_freezes_what_the_imports_made_and_only_once() -> None:
    # In a fresh interpreter: freezing this pytest process would keep every earlier test's garbage for good.
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


PAUSE = """
import gc
from trainlab.gc_freeze import freeze_imported_objects, pause_collection

pause_collection()
assert not gc.isenabled()
import torch  # no collection runs during the import

assert gc.get_stats()[2]["collections"] == 0, gc.get_stats()
freeze_imported_objects()
assert gc.isenabled() and gc.get_freeze_count() > 100_000
pause_collection()  # a multirun's next job: the imports are cached, the collector comes back on
freeze_imported_objects()
assert gc.isenabled()
gc.disable()  # a caller that keeps the collector off itself is left so
pause_collection()
freeze_imported_objects()
assert not gc.isenabled()
"""


def test_no_collection_runs_during_the_imports_and_the_collector_comes_back() -> None:
    done = subprocess.run([sys.executable, "-c", PAUSE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
