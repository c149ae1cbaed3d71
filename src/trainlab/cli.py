"""What the Hydra entry points share: turning user errors into one line and a non-zero exit."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

from trainlab.errors import TrainingInterrupted, UserError
from trainlab.resume import is_multirun

T = TypeVar("T")


def run_reporting_errors(task: Callable[[], T]) -> T:
    """Run `task`; a `UserError` prints `error: …` on stderr and exits with 2.

    The traceback is for developers: set HYDRA_FULL_ERROR=1 to see it. A run stopped by SIGINT/SIGTERM (its state
    saved in last.ckpt) exits with 128 + the signal number. A diverged job of a multirun sweep is reported and
    re-raised, so Hydra counts that job as failed and goes on with the others.
    """
    try:
        return task()
    except TrainingInterrupted as err:
        saved = f"the current state is saved in {err.ckpt}" if err.ckpt else "nothing was saved"
        print(f"{err}: {saved}; continue with resume=true (the same run dir)", file=sys.stderr)
        sys.exit(err.exit_code)
    except UserError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        if getattr(err, "fails_job_only", False) and is_multirun():
            raise
        sys.exit(2)
