"""Errors a user can fix by changing a command or a file; the entry points print them as one line."""

from __future__ import annotations


class UserError(RuntimeError):
    """A bad request (config, hardware, data file): shown as one line with the fix, never as a traceback."""
