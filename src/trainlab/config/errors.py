"""Errors a user can fix by changing a command or a file; the entry points print them as one line."""

from __future__ import annotations

from hydra.errors import CompactHydraException


class UserError(RuntimeError):
    """A bad request (config, hardware, data file): shown as one line with the fix, never as a traceback."""


class TrainingInterrupted(Exception):
    """Training stopped at a safe point because the process received signal `signum` (SIGINT or SIGTERM)."""

    def __init__(self, signum: int, ckpt: str | None = None) -> None:
        import signal

        self.signum, self.ckpt = signum, ckpt
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


class Diverged(UserError, CompactHydraException):
    """Training stopped at the first NaN or inf loss. In a multirun sweep only that job ends (its metrics.json says
    "diverged"); the sweep goes on, its summary lists the job last, and a grid sweep then exits 1 with one line
    (`trainlab.sweep_summary`); the Optuna sweeper counts it as a failed trial."""

    fails_job_only = True
