"""What the Hydra entry points share: turning user errors into one line and a non-zero exit."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

from trainlab.errors import UserError

T = TypeVar("T")


def run_reporting_errors(task: Callable[[], T]) -> T:
    """Run `task`; a `UserError` prints `error: …` on stderr and exits with 2.

    The traceback is for developers: set HYDRA_FULL_ERROR=1 to see it.
    """
    try:
        return task()
    except UserError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
