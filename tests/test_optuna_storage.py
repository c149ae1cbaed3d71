"""Studies shared through storage (slow): a Journal file written by two sweeps started together, and a real
PostgreSQL server started by the test (skipped, with the reason, where none can be started)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from helpers import runner
from helpers.toy_sweep import CONF, sweep_in_process
from optuna.trial import TrialState

from trainlab.sweeps.storage import open_storage


@pytest.mark.slow
def test_a_journal_file_shared_by_two_processes_started_together_holds_both_their_trials(tmp_path: Path) -> None:
    journal = tmp_path / "shared" / "study.journal"
    common = [
        "-m",
        "helpers.toy_sweep",
        "-m",
        f"hydra.searchpath=[file://{CONF}]",
        f"hydra.sweeper.storage={journal}",
        "hydra.sweeper.study_name=shared",
        "hydra.sweeper.n_trials=6",
        "x=interval(0,1)",
        "sleep=0.05",
    ]
    procs = [
        runner.start([runner.sys.executable, *common, f"hydra.sweep.dir={tmp_path / name}"]) for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    study = optuna.load_study(study_name="shared", storage=open_storage(str(journal)))
    trials = study.trials
    # Each process stops once the study holds 6 trials; two asking at the same moment may add one more.
    assert 6 <= len(trials) <= 7
    assert [t.number for t in trials] == list(range(len(trials)))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    owners = {Path(t.user_attrs["trainlab.job_dir"]).parent.name for t in trials}
    assert owners == {"a", "b"}
    for t in trials:  # each trial ran in its own process's sweep dir, in the dir named by its number
        assert Path(t.user_attrs["trainlab.job_dir"]).name == str(t.number)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 in a temporary folder (as the `postgres` user when this runs as root:
    the server refuses root), stopped afterwards; its URL for SQLAlchemy with psycopg 3."""
    initdb, pg_ctl = postgres_tool("initdb"), postgres_tool("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL's initdb/pg_ctl not found: install the postgresql package (.ci/run does)")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="trainlab-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base)
            pytest.skip("running as root and there is no 'postgres' user to start the server as")
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()

    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)

    try:
        made = run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        if made.returncode != 0:
            pytest.skip(f"initdb failed: {(made.stderr or made.stdout).strip().splitlines()[-1:]}")
        options = f"-p {port} -h 127.0.0.1 -k {base} -F"
        started = run(pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "server.log"), "-w", "start")
        if started.returncode != 0:
            pytest.skip(f"pg_ctl could not start a server: {(started.stderr or started.stdout).strip()[-300:]}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if data.is_dir():
            run(pg_ctl, "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_a_study_in_postgresql_is_continued_by_the_next_sweep(tmp_path: Path, postgres_url: str) -> None:
    storage = [f"hydra.sweeper.storage={postgres_url}", "hydra.sweeper.study_name=pg", "x=interval(0,1)"]
    code, _, err = sweep_in_process(tmp_path / "first", *storage, "hydra.sweeper.n_trials=2")
    assert code == 0, err
    code, _, err = sweep_in_process(tmp_path / "second", *storage, "hydra.sweeper.n_trials=3")
    assert code == 0, err
    study = optuna.load_study(study_name="pg", storage=postgres_url)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert [Path(t.user_attrs["trainlab.job_dir"]).parent.name for t in study.trials] == ["first", "first", "second"]
    assert not (tmp_path / "first" / "optuna.db").exists()  # the study is in the database, not the sweep dir
