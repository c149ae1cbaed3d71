"""resume=true: the latest run of the task continues from last.ckpt, in its own run dir, with its own loggers and its
own saved config; a conflicting change is refused, a finished run is left as it is, the CSV log and metrics.json
neither repeat nor lose anything. (Exact mid-epoch resume and interruptions: tests/test_interrupt.py.)"""

from __future__ import annotations

import csv
import os
import subprocess
import time
from pathlib import Path

import pytest
import torch
from helpers import runner
from helpers.config import QUICK, compose_train
from helpers.paths import CONF
from helpers.training import read_metrics
from helpers.wandb_file import read_run, run_files
from omegaconf import OmegaConf, open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from trainlab.config.cli import parse
from trainlab.config.errors import UserError
from trainlab.config.run_dirs import LAST_CKPT, hydra_subdir, latest_run, register_resolver, run_dir
from trainlab.data.batches import TensorBatches
from trainlab.loggers.csv_logger import AppendingCSVLogger
from trainlab.resume import AlreadyCompleted, check_completed, restored_config


def touch_run(runs: Path, name: str, mtime: float) -> Path:
    ckpt = runs / name / LAST_CKPT
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")
    os.utime(ckpt, (mtime, mtime))
    return runs / name


def test_the_latest_checkpointed_run_is_picked(tmp_path):
    runs = tmp_path / "logs" / "train" / "runs"
    assert latest_run(runs) is None
    now = time.time()
    touch_run(runs, "2026-01-01_00-00-00_000000", now - 100)
    newer = touch_run(runs, "2025-12-31_00-00-00_000000", now - 10)  # resumed later: its last.ckpt is newest
    (runs / "2026-02-01_00-00-00_000000").mkdir()  # no last.ckpt (e.g. crashed before the first epoch)
    assert latest_run(runs) == newer
    assert run_dir(str(runs), "new", "true") == str(newer)
    assert run_dir(str(runs), "new", False) == str(runs / "new")
    assert run_dir(str(tmp_path / "none"), "new", True) == str(tmp_path / "none" / "new")


def test_hydra_run_dir_resolves_to_the_run_to_resume(tmp_path):
    register_resolver()
    runs = tmp_path / "logs" / "train" / "runs"
    old = touch_run(runs, "old", time.time())
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    def chosen(resume: str) -> Path:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose("train", overrides=[f"resume={resume}"], return_hydra_config=True)
        with open_dict(cfg):
            cfg.paths.log_dir = str(tmp_path / "logs")
        return Path(cfg.hydra.run.dir)

    assert chosen("true") == old
    new = chosen("false")
    assert new.parent == runs and new != old


def test_nothing_to_resume_is_a_one_line_error(run_entry, tmp_path):
    result = run_entry("train", *QUICK, "resume=true")
    assert result.returncode == 2
    assert result.stderr.startswith("error: resume=true: nothing to resume"), result.stderr
    assert "Traceback" not in result.stderr


def test_resume_refuses_multirun(run_entry, tmp_path):
    result = run_entry("train", "hydra.mode=MULTIRUN", *QUICK, "resume=true", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert result.returncode == 2
    assert "error: resume=true continues one run" in result.stderr, result.stderr[-2000:]


def train(log_dir: Path, mnist_dir: Path, cache_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """`python src/train.py` with its default run dir (under `log_dir`), W&B offline."""
    cmd = runner.command("train", [f"paths.log_dir={log_dir}", f"paths.cache_dir={cache_dir}", *QUICK, *overrides])
    return runner.run(cmd, env={"TRAINLAB_DATA_DIR": str(mnist_dir), "WANDB_MODE": "offline"})


@pytest.mark.slow
def test_resume_continues_the_run_and_its_loggers(tmp_path, mnist_dir, cache_dir):
    logs = tmp_path / "logs"
    first = train(logs, mnist_dir, cache_dir, "logger=many")
    assert first.returncode == 0, first.stderr[-3000:]
    (run,) = (logs / "train" / "runs").iterdir()
    assert read_metrics(run)["epochs"] == 1
    run_id = (run / "wandb" / "trainlab_run_id").read_text().strip()

    second = train(logs, mnist_dir, cache_dir, "logger=many", "resume=true", "trainer.max_epochs=2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert list((logs / "train" / "runs").iterdir()) == [run]  # no new run dir: the same one continued
    assert f"Restored all states from the checkpoint at {run / LAST_CKPT}" in (run / "train.log").read_text()
    assert read_metrics(run)["epochs"] == 2
    assert [row["epoch"] for row in read_metrics(run)["history"]] == [1, 2]  # the history goes on from the first

    # W&B: one run id, one offline file per session; the second goes on from the first's step and epoch.
    sessions = [read_run(f) for f in run_files(run)]
    assert [s.run_id for s in sessions] == [run_id, run_id]
    assert sessions[0].metric("epoch")[0] == 0 and max(sessions[1].metric("epoch")) == 2
    assert min(sessions[1].metric("trainer/global_step")) >= 20

    # TensorBoard: the same folder, val/acc for epochs 1 and 2 at steps 19 and 39.
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("val/acc")] == [19, 39]
    assert [p.name for p in run.iterdir() if p.name.startswith("tensorboard")] == ["tensorboard"]

    # CSV: the first session's rows are still there, the second's appended.
    with open(run / "csv" / "metrics.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["train/acc"]]
    assert [r["epoch"] for r in rows] == ["0", "1"]


# ---- the pieces, in-process ----


def batcher(epoch: list[int]) -> TensorBatches:
    images = torch.arange(50, dtype=torch.uint8).view(50, 1, 1, 1)
    return TensorBatches(
        images, torch.arange(50), 8, torch.ones(1), torch.zeros(1), shuffle=True, epoch=lambda: epoch[0]
    )


def test_batcher_resumes_mid_pass_at_the_next_batch():
    epoch = [3]
    whole = [y.tolist() for _, y in batcher(epoch)]
    first = batcher(epoch)
    it = iter(first)
    seen = [next(it)[1].tolist() for _ in range(3)]
    state = first.state_dict()
    assert state == {"epoch": 3, "batches": 3} and seen == whole[:3]

    resumed = batcher(epoch)
    resumed.load_state_dict(state)
    assert [y.tolist() for _, y in resumed] == whole[3:]  # the rest of the very same pass
    assert [y.tolist() for _, y in resumed] == whole  # and the next pass of that epoch is whole again

    later = batcher([4])
    later.load_state_dict(state)  # a checkpoint of epoch 3 says nothing about epoch 4: from its start
    assert len([y for _, y in later]) == len(whole)


def test_hydra_files_of_a_resumed_run_go_beside_the_originals(tmp_path):
    new, old = tmp_path / "new", tmp_path / "old"
    (old / ".hydra").mkdir(parents=True)
    (old / ".hydra" / "config.yaml").write_text("seed: 0\n")
    assert hydra_subdir(str(new)) == ".hydra"
    subdir = hydra_subdir(str(old))
    assert subdir.startswith(".hydra/resume-")
    (new / ".hydra").mkdir(parents=True)
    (new / ".hydra" / "config.yaml").write_text("seed: 0\n")  # Hydra wrote the new run's files: same answer
    assert hydra_subdir(str(new)) == ".hydra" and hydra_subdir(str(old)) == subdir


def test_csv_rewind_drops_the_rows_after_the_checkpoint(tmp_path):
    logger = AppendingCSVLogger(save_dir=str(tmp_path), name="csv", version="")
    logger.log_metrics({"val/acc": 0.5, "epoch": 0}, step=19)
    logger.log_metrics({"test/acc": 0.4, "epoch": 1}, step=20)  # the test of the step-20 checkpoint
    logger.log_metrics({"val/acc": 0.6, "epoch": 1}, step=39)  # a later session, past the checkpoint
    logger.log_metrics({"train/loss": 0.6, "epoch": 1}, step=20)
    logger.save()
    reopened = AppendingCSVLogger(save_dir=str(tmp_path), name="csv", version="")
    reopened.experiment.rewind(20)
    with open(tmp_path / "csv" / "metrics.csv", newline="") as f:
        rows = [(r["step"], r["val/acc"], r["test/acc"]) for r in csv.DictReader(f)]
    assert rows == [("19", "0.5", ""), ("20", "", "0.4")]


def save_run(run: Path, overrides: list[str]) -> None:
    """A run dir's .hydra/ files as Hydra writes them for `python src/train.py <overrides>`."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
    with open_dict(cfg):
        del cfg.hydra
    (run / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    OmegaConf.save({"hydra": {"runtime": {"choices": choices}}}, run / ".hydra" / "hydra.yaml")


def restore(run: Path, typed: list[str]):
    return restored_config(compose_train(typed, output_dir=run), parse(typed))


def test_resume_restores_the_saved_config_and_allows_only_resumable_changes(tmp_path):
    run = tmp_path / "run"
    save_run(run, ["experiment=mnist_cnn", "logger=tensorboard", "optimizer.lr=0.003"])

    cfg = restore(run, ["resume=true", "trainer.max_epochs=4", "test=false"])
    assert cfg.model._target_ == "trainlab.models.CNN"
    assert list(cfg.logger) == ["tensorboard"] and cfg.optimizer.lr == 0.003  # loggers and values restored
    assert cfg.trainer.max_epochs == 4 and cfg.test is False and cfg.resume is True  # what resuming may change

    same = restore(run, ["resume=true", "experiment=mnist_cnn", "optimizer.lr=0.1", "optimizer.lr=0.003"])  # the last
    # of a key typed twice counts, and retyping a saved value changes nothing
    assert same.optimizer.lr == 0.003 and same.trainer.max_epochs == 3

    for typed, named in [
        ("model=mlp", "model=mlp (the run has model=cnn)"),
        ("optimizer=sgd", "optimizer=sgd (the run has optimizer=adam)"),
        ("optimizer.lr=0.1", "optimizer.lr=0.1 (the run has optimizer.lr=0.003)"),
        ("data.batch_size=64", "data.batch_size=64 (the run has data.batch_size=128)"),
        ("regularization=dropout", "regularization=dropout (the run has regularization=none)"),
    ]:
        with pytest.raises(UserError, match=f"^resume: {named.replace('(', '[(]').replace(')', '[)]')} conflicts"):
            restore(run, ["resume=true", typed])

    fresh = compose_train(["model=mlp"], output_dir=run)  # not resuming: the command line's config as it is
    assert restored_config(fresh, parse(["model=mlp"])) is fresh


def test_a_checkpoint_that_trained_enough_is_completed(tmp_path):
    ckpt = tmp_path / "last.ckpt"
    progress = {"current": {"ready": 1, "started": 1, "processed": 1, "completed": 0}}
    torch.save({"epoch": 0, "global_step": 20, "loops": {"fit_loop": {"epoch_progress": progress}}}, ckpt)
    with pytest.raises(AlreadyCompleted, match=r"^already completed 1 epoch; raise trainer.max_epochs to train on"):
        check_completed(compose_train(["trainer.max_epochs=1"]), str(ckpt))
    check_completed(compose_train(["trainer.max_epochs=2"]), str(ckpt))  # one epoch to go: no answer
    with pytest.raises(AlreadyCompleted, match=r"already completed 20 steps; raise trainer\.max_steps"):
        check_completed(compose_train(["trainer.max_epochs=2", "++trainer.max_steps=20"]), str(ckpt))


# ---- end to end, as typed (default run dirs under a temporary log dir) ----


def shown(result: subprocess.CompletedProcess, lines: int = 4) -> subprocess.CompletedProcess:
    """Print the command and the end of what it printed (pytest -s shows it: the resume cases, as a user sees them)."""
    args = [a for a in result.args[2:] if not a.startswith(("paths.log_dir", "print_config"))]
    said = ("already completed", "│ epochs", "│ status", "│ test/acc", "│ val/acc ", "error:")
    out = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.startswith(said)]
    print(f"\n$ python src/train.py {' '.join(args)}   # exit {result.returncode}")
    print("\n".join(out[-lines:]))
    return result


def files(run: Path) -> dict[str, int]:
    """Every file of a run dir with its modification time (nanoseconds)."""
    return {str(p.relative_to(run)): p.stat().st_mtime_ns for p in sorted(run.rglob("*")) if p.is_file()}


def csv_rows(run: Path) -> list[tuple[str, str, str]]:
    """(kind, epoch, step) of each row of the run's metrics.csv: kind is train, val or test."""
    with open(run / "csv" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    kinds = ("train/acc", "val/acc", "test/acc")
    return [(k.split("/")[0], r["epoch"], r["step"]) for r in rows for k in kinds if r.get(k)]


@pytest.mark.slow
def test_a_cnn_run_resumes_with_its_own_config_and_loggers(tmp_path, mnist_dir, cache_dir):
    logs = tmp_path / "logs"
    first = shown(
        train(logs, mnist_dir, cache_dir, "experiment=mnist_cnn", "logger=tensorboard", "trainer.max_epochs=1")
    )
    assert first.returncode == 0, first.stderr[-3000:]
    (run,) = (logs / "train" / "runs").iterdir()
    saved = {p.name: p.read_bytes() for p in (run / ".hydra").glob("*.yaml")}
    assert set(saved) == {"config.yaml", "hydra.yaml", "overrides.yaml"}

    # Neither the experiment nor the logger retyped: the run's own config and loggers go on.
    second = shown(train(logs, mnist_dir, cache_dir, "resume=true", "trainer.max_epochs=2"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Traceback" not in second.stderr
    assert list((logs / "train" / "runs").iterdir()) == [run]
    assert {p.name: p.read_bytes() for p in (run / ".hydra").glob("*.yaml")} == saved  # byte-identical
    (record,) = (run / ".hydra").glob("resume-*")  # this resume's own files, beside the originals
    assert "- resume=true" in (record / "overrides.yaml").read_text()
    assert OmegaConf.load(record / "config.yaml").model._target_ == "trainlab.models.CNN"  # what it really ran
    assert read_metrics(run)["epochs"] == 2 and "test/acc" in read_metrics(run)
    ckpt = torch.load(run / LAST_CKPT, map_location="cpu", weights_only=True)
    assert ckpt["hyper_parameters"]["net"]["_target_"] == "trainlab.models.CNN"
    assert not (run / "csv").exists()  # TensorBoard only, as the run was started
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("val/acc")] == [19, 39]

    # Another model, another optimizer, another net shape: refused in one line, nothing written.
    before = files(run)
    for change, named in [("model=mlp", "model=mlp (the run has model=cnn)"), ("optimizer=sgd", "optimizer=sgd")]:
        refused = shown(train(logs, mnist_dir, cache_dir, "resume=true", "trainer.max_epochs=3", change), lines=1)
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"error: resume: {named}"), refused.stderr
        assert refused.stderr.count("\n") == 1 and "conflicts with the run's saved config" in refused.stderr
    shape = shown(
        train(logs, mnist_dir, cache_dir, "resume=true", "experiment=mnist_cnn", "model.channels=[8,16]"), lines=1
    )
    assert shape.returncode == 2 and "model.channels=[8,16] (the run has model.channels=[32,64])" in shape.stderr
    assert files(run) == before


@pytest.mark.slow
def test_a_finished_run_is_left_as_it_is_and_trains_on_when_asked(tmp_path, mnist_dir, cache_dir):
    logs = tmp_path / "logs"
    first = shown(train(logs, mnist_dir, cache_dir))
    assert first.returncode == 0, first.stderr[-3000:]
    (run,) = (logs / "train" / "runs").iterdir()
    before = files(run)
    done = "already completed 1 epoch; raise trainer.max_epochs to train on"

    again = shown(train(logs, mnist_dir, cache_dir, "resume=true"), lines=1)
    assert again.returncode == 0 and again.stdout.startswith(done), again.stdout + again.stderr[-2000:]
    assert again.stdout.count("\n") == 1 and not again.stderr
    assert files(run) == before  # no new CSV rows, metrics.json untouched, no .hydra/resume-* either

    other = shown(train(logs, mnist_dir, cache_dir, f"ckpt_path={run / LAST_CKPT}"), lines=1)  # a NEW run from it
    assert other.returncode == 0 and other.stdout.startswith(done), other.stdout + other.stderr[-2000:]
    assert list((logs / "train" / "runs").iterdir()) == [run]  # no new run dir either
    assert files(run) == before

    # Raised max_epochs: it trains on; the CSV has each epoch once, metrics.json every key.
    (run / "checkpoints" / "first.ckpt").write_bytes((run / LAST_CKPT).read_bytes())
    more = shown(train(logs, mnist_dir, cache_dir, "resume=true", "trainer.max_epochs=2"))
    assert more.returncode == 0, more.stderr[-3000:]
    assert "not resumable" not in more.stderr
    rows = csv_rows(run)
    assert [r for r in rows if r[0] != "test"] == [
        ("val", "0", "19"),
        ("train", "0", "19"),
        ("val", "1", "39"),
        ("train", "1", "39"),
    ]
    metrics = read_metrics(run)
    assert metrics["epochs"] == 2 and metrics["status"] == "completed"
    assert {"train/loss", "train/acc", "val/loss", "val/acc", "test/loss", "test/acc"} <= metrics.keys()

    # ckpt_path= inside the run dir resumes in place (its config restored): replaying epoch 1 from the first
    # checkpoint rewinds the CSV log to that checkpoint instead of logging epoch 1 twice.
    replay = shown(
        train(
            logs,
            mnist_dir,
            cache_dir,
            f"hydra.run.dir={run}",
            f"ckpt_path={run / 'checkpoints' / 'first.ckpt'}",
            "trainer.max_epochs=2",
        )
    )
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert [r for r in csv_rows(run) if r[0] != "test"] == [r for r in rows if r[0] != "test"]
    assert {"train/acc", "val/acc", "test/acc"} <= read_metrics(run).keys()
