"""The drawing process: a child Python process that draws the run's PNGs, so that matplotlib's import (~0.4 s of
CPU) and each plot's rendering (~0.1 s) run beside training instead of inside it.

A thread would not do: Python threads share one interpreter lock, and a plot rendering on a thread holds the
training loop for as long as it renders. The child draws on another core. It is a plain `python -m
trainlab.diagnostics.drawer` that imports matplotlib (never torch) while the parent imports torch, then reads jobs
from its stdin (pickled: a PNG's path, the name of a figure function in `plots`, its arguments as plain data) and
answers each on its stdout with None or the error as one line. It runs at the lowest priority (nice 19), so it
draws on the cycles training leaves idle rather than taking a core from torch's threads; in a session of its own,
so Ctrl-C in the terminal reaches the training process only; and it ends when its stdin closes, after the jobs it
was given. If it cannot start, or dies, the plots are drawn in the parent instead: slower, never lost.

The parent's side is `submit` (returns at once) and `wait` (returns once every submitted PNG is written); both are
called from one thread, the one running training.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

Job = tuple[str, str, tuple[Any, ...]]  # the PNG's path, a figure function of `plots`, its arguments

_ENDED = "the drawing process ended"  # a reply of the reader thread, not of the child


def draw(path: str, name: str, args: tuple[Any, ...]) -> str | None:
    """Draw one job: `plots.<name>(*args)` saved to `path`. None, or what went wrong as one line."""
    from trainlab.diagnostics import plots

    try:
        plots.save(getattr(plots, name)(*args), Path(path))
    except Exception as err:  # a plot that fails is one warning line for the parent, not a dead drawer
        return f"{type(err).__name__}: {err}"
    return None


class Drawer:
    """The parent's end of one drawing process: jobs go down its stdin; a thread reads the replies as they come,
    so neither pipe fills up however many jobs are waiting."""

    def __init__(self) -> None:
        package_root = Path(__file__).resolve().parents[2]  # the folder that holds `trainlab`
        path = os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its failures come back as replies, or as the fallback's warning
            env={**os.environ, "PYTHONPATH": path},
            start_new_session=True,
        )
        self.replies: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self.alive = True
        threading.Thread(target=self._read, args=(self.process.stdout,), name="trainlab-drawer", daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        try:
            while True:
                self.replies.put(pickle.load(stream))
        except Exception:  # EOF: the child ended (or was killed)
            self.replies.put(_ENDED)

    def send(self, job: Job) -> bool:
        """Hand `job` to the child; False when it is gone."""
        if not self.alive or self.process.stdin is None:
            return False
        try:
            pickle.dump(job, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.flush()
        except (OSError, ValueError):  # a broken pipe: the child died
            self.alive = False
        return self.alive

    def reply(self) -> str | None:
        """The next job's answer; `_ENDED` (for this and every later job) once the child is gone."""
        if not self.alive:
            return _ENDED
        answer = self.replies.get()
        if answer == _ENDED:
            self.alive = False
        return answer

    def close(self) -> None:
        """No more jobs: the child finishes the ones it has and exits."""
        self.alive = False
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


_drawer: Drawer | None = None
_failed = False  # the process could not start: draw in this one from now on
_pending: list[Job] = []  # submitted, not yet answered, in order


# Set by Lightning (and SLURM, torchrun) in the processes of a multi-process run; rank 0 has none or "0".
RANK_VARIABLES = ("RANK", "LOCAL_RANK", "SLURM_PROCID")


def other_rank() -> bool:
    """Whether this is a process other than rank 0 of a multi-process run, which draws nothing."""
    return any(os.environ.get(name, "0") not in ("", "0") for name in RANK_VARIABLES)


def start() -> None:
    """Start the drawing process now, if it is not running, so that it imports matplotlib while this one imports
    torch (the entry points call this once the config is known to draw something). Not on the other ranks of a
    multi-process run: only rank 0 draws (a PNG asked of them all the same is drawn in-process)."""
    global _drawer, _failed
    if _drawer is not None or _failed or other_rank():
        return
    try:
        _drawer = Drawer()
    except OSError as err:
        _failed = True
        log.debug(f"no drawing process ({err}): plots are drawn in this one")
        return
    atexit.unregister(close)  # once, however often a drawer is started
    atexit.register(close)


def submit(path: Path, name: str, args: tuple[Any, ...]) -> None:
    """Draw `plots.<name>(*args)` to `path` in the drawing process; returns at once."""
    start()
    job = (os.path.abspath(path), name, args)  # the drawer keeps the folder it started in; a job may chdir
    _pending.append(job)
    if _drawer is not None:
        _drawer.send(job)  # if this fails, `wait` draws the job here


def wait() -> None:
    """Return once every submitted PNG is written. A plot that failed is one warning line, not a failed run."""
    while _pending:
        job = _pending.pop(0)
        error = _drawer.reply() if _drawer is not None else _ENDED
        if error == _ENDED:  # no drawing process (any more): draw it here
            error = draw(*job)
        if error is not None:
            log.warning(f"could not write {job[0]}: {error}")


def close() -> None:
    """Wait for the pending PNGs, then let the drawing process end (at exit)."""
    global _drawer
    wait()
    if _drawer is not None:
        _drawer.close()
        _drawer = None


def serve(jobs: IO[bytes], replies: IO[bytes]) -> None:
    """The child's loop: draw each job read from `jobs`, answer on `replies`, until `jobs` closes."""
    from trainlab.diagnostics import plots

    plots.warm_up()  # matplotlib's import and its font, before the first job needs them
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        pickle.dump(draw(*job), replies)
        replies.flush()


if __name__ == "__main__":
    if hasattr(os, "nice"):
        os.nice(19)  # the lowest priority: drawing takes the cores training leaves idle, never training's own
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer)
    finally:
        sys.stdout.flush()
        os._exit(0)  # matplotlib's teardown is of no use to anyone
