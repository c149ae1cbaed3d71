"""Where a study lives, as the one string the sweeper and its jobs both open.

- null (the default): an SQLite file in the sweep dir, `<sweep dir>/optuna.db`. Running the same command again
  with the same `hydra.sweep.dir` continues that study.
- an RDB URL (`sqlite:///…`, `postgresql+psycopg://user@host/db`, `mysql://…`): many machines, one database.
- a path to a Journal file (`/shared/study.journal`): Optuna's choice for a shared file system, no server; file
  locks make it safe for several processes and machines.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from trainlab.config.errors import UserError

DEFAULT_FILE = "optuna.db"


def storage_spec(storage: Any, sweep_dir: str | Path) -> str:
    """The storage as a string every process can open: an RDB URL, or the absolute path of a Journal file."""
    if storage is None or storage == "":
        return f"sqlite:///{(Path(sweep_dir) / DEFAULT_FILE).resolve()}"
    if not isinstance(storage, str):
        raise UserError(
            f"hydra.sweeper.storage={storage!r}: give an RDB URL (sqlite:///file.db, postgresql+psycopg://…), "
            "the path of a Journal file, or null for <sweep dir>/optuna.db"
        )
    return storage if is_url(storage) else str(Path(storage).expanduser().resolve())


def is_url(spec: str) -> bool:
    return "://" in spec


@functools.cache
def open_storage(spec: str) -> Any:
    """The Optuna storage `spec` names (made if missing: the folder of an SQLite or Journal file too). One per
    process: opening an RDB storage checks its tables (seconds), and the sweeper's jobs in its own process (the
    basic launcher) use the same one."""
    import optuna

    if not is_url(spec):
        from optuna.storages.journal import JournalFileBackend

        Path(spec).parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(spec))
    if spec.startswith("sqlite:///"):
        Path(spec.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        return optuna.storages.RDBStorage(spec)
    except Exception as err:  # a bad URL, a missing driver, a server that does not answer
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"hydra.sweeper.storage={spec}: cannot open it ({detail})") from err
