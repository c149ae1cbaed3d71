"""What lightning-hydra-template users type: tags, train=false, experiment=example and glob sweeps, the debug
options, logger=mlflow, and the common Trainer keys in conf/trainer/. Each is run as typed, with default paths, in a
temporary copy of the repo (the fast tests compose or build the Trainer in-process)."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from helpers.config import compose_train
from helpers.fake_tables import data_dir_with_tables
from helpers.paths import CONF
from helpers.repo_copy import copy_repo, run_typed
from hydra.utils import instantiate

TINY = "trainer.limit_train_batches=2 trainer.limit_val_batches=1 trainer.limit_test_batches=1 print_config=false"


def only_run(root: Path) -> Path:
    [run] = (root / "logs" / "train" / "runs").iterdir()
    return run


@pytest.mark.parametrize(
    ("override", "attribute", "expected"),
    [
        ("trainer.gradient_clip_val=1.0", "gradient_clip_val", 1.0),  # what the divergence message suggests
        ("trainer.gradient_clip_algorithm=value", "gradient_clip_algorithm", "value"),
        ("trainer.accumulate_grad_batches=4", "accumulate_grad_batches", 4),
        ("trainer.val_check_interval=0.5", "val_check_interval", 0.5),
        ("trainer.limit_train_batches=0.1", "limit_train_batches", 0.1),
        ("trainer.limit_val_batches=3", "limit_val_batches", 3),
        ("trainer.limit_test_batches=2", "limit_test_batches", 2),
        ("trainer.log_every_n_steps=10", "log_every_n_steps", 10),
        ("trainer.overfit_batches=4", "overfit_batches", 4),
        ("trainer.fast_dev_run=true", "fast_dev_run", True),
        ("trainer.max_steps=100", "max_steps", 100),
        ("trainer.detect_anomaly=true", "_detect_anomaly", True),
    ],
    ids=lambda v: v if isinstance(v, str) and "=" in v else "",
)
def test_common_trainer_keys_are_typed_plain_and_reach_the_trainer(
    override: str, attribute: str, expected, tmp_path: Path
) -> None:
    cfg = compose_train([override, "trainer/accelerator=cpu"], output_dir=tmp_path)
    trainer = instantiate(cfg.trainer, logger=False, enable_progress_bar=False, enable_model_summary=False)
    value = getattr(trainer, attribute)
    assert getattr(value, "value", value) == expected  # gradient_clip_algorithm is an enum


def test_trainer_defaults_are_lightnings() -> None:
    """Listing a key in conf/trainer/default.yaml must not change what a run does: each is Lightning's default
    (max_epochs, min_epochs, precision, num_sanity_val_steps and deterministic are trainlab's own choices)."""
    import inspect

    import lightning

    defaults = {k: p.default for k, p in inspect.signature(lightning.Trainer.__init__).parameters.items()}
    ours = yaml.safe_load((CONF / "trainer" / "default.yaml").read_text())
    own_choices = {"_target_", "defaults", "default_root_dir", "max_epochs", "min_epochs", "precision"}
    own_choices |= {"num_sanity_val_steps", "deterministic", "log_every_n_steps"}  # 50 is Lightning's when None
    for key, value in ours.items():
        if key not in own_choices:
            assert value == defaults[key], key


def test_experiment_example_sets_what_it_says() -> None:
    cfg = compose_train(["experiment=example"])
    assert cfg.model.hidden == [512, 256] and cfg.init.name == "he_normal"
    assert cfg.optimizer._target_ == "torch.optim.AdamW" and cfg.optimizer.lr == 0.002
    assert cfg.regularization.dropout == 0.1 and cfg.regularization.weight_decay == 0.01
    assert cfg.model.dropout == 0.1  # the MLP takes regularization.dropout
    assert list(cfg.tags) == ["example", "mlp"] and cfg.trainer.max_epochs == 5 and cfg.data.batch_size == 256


def test_debug_options_compose_to_what_they_promise() -> None:
    overfit = compose_train(["debug=overfit"])
    assert overfit.trainer.overfit_batches == 4 and "_target_" not in overfit.scheduler  # constant lr
    assert overfit.regularization.dropout == 0 and overfit.regularization.augment_shift == 0
    assert overfit.regularization.label_smoothing == 0
    profiler = compose_train(["debug=profiler"])
    assert profiler.trainer.profiler._target_ == "lightning.pytorch.profilers.SimpleProfiler"
    default = compose_train(["debug=default"])
    assert default.trainer.accelerator == "cpu" and default.trainer.detect_anomaly is True


@pytest.mark.slow
def test_tags_reach_every_logger_and_metrics_json(tmp_path: Path, mnist_dir: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    done = run_typed(f"python src/train.py tags=[mlp,baseline] logger=many {TINY}", root, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    run = only_run(root)
    assert json.loads((run / "metrics.json").read_text())["tags"] == ["mlp", "baseline"]
    assert yaml.safe_load((run / "csv" / "hparams.yaml").read_text())["tags"] == ["mlp", "baseline"]
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))  # hparams are logged into the event file
    from helpers.wandb_file import read_run, run_files

    [wandb_file] = run_files(run)
    wandb_run = read_run(wandb_file)
    assert wandb_run.tags == ["mlp", "baseline"] and wandb_run.config["tags"] == ["mlp", "baseline"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="logger=mlflow needs pip install -e '.[mlflow]'")
def test_logger_mlflow_writes_a_local_store_that_mlflow_reads_back(
    tmp_path: Path, mnist_dir: Path, monkeypatch
) -> None:
    root = copy_repo(tmp_path / "repo")
    done = run_typed(f"python src/train.py logger=mlflow tags=[probe] {TINY}", root, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    run = only_run(root)
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=f"file:{run / 'mlruns'}")
    [record] = client.search_runs([client.get_experiment_by_name("train").experiment_id])
    assert record.info.status == "FINISHED"
    metrics = json.loads((run / "metrics.json").read_text())
    assert record.data.metrics["test/acc"] == pytest.approx(metrics["test/acc"])
    assert {"train/loss", "val/acc", "val/acc_best"} <= set(record.data.metrics)
    assert record.data.params["optimizer/lr"] == "0.003" and record.data.params["tags"] == "['probe']"


@pytest.mark.slow
def test_train_false_tests_a_checkpoint_only(tmp_path: Path, mnist_dir: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    first = run_typed(f"python src/train.py model.hidden=[64] {TINY}", root, mnist_dir)
    assert first.returncode == 0, first.stderr[-3000:]
    trained = json.loads((only_run(root) / "metrics.json").read_text())
    # Without retyping model.hidden: the net and the split come from the checkpoint, as with src/eval.py.
    command = f"python src/train.py train=false ckpt_path={trained['ckpt_best']} trainer.limit_test_batches=1"
    done = run_typed(command, root, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    tested = max((root / "logs" / "train" / "runs").iterdir())
    metrics = json.loads((tested / "metrics.json").read_text())
    assert metrics["test/acc"] == pytest.approx(trained["test/acc"])
    assert "train/loss" not in metrics and not (tested / "checkpoints").exists()


@pytest.mark.slow
def test_glob_sweep_runs_every_saved_experiment(tmp_path: Path, mnist_dir: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    data = data_dir_with_tables(tmp_path / "data", mnist_dir)  # experiment=titanic and boston read a CSV there
    done = run_typed(f"python src/train.py -m 'experiment=glob(*)' trainer.max_epochs=1 {TINY}", root, data)
    assert done.returncode == 0, done.stderr[-3000:]
    [sweep] = (root / "logs" / "train" / "multiruns").iterdir()
    ran = sorted(yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())[0] for job in sweep.glob("[0-9]*"))
    assert ran == sorted(f"experiment={p.stem}" for p in (CONF / "experiment").glob("*.yaml"))
    assert all((job / "metrics.json").is_file() for job in sweep.glob("[0-9]*"))


@pytest.mark.slow
def test_debug_default_logs_debug_records(tmp_path: Path, mnist_dir: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    done = run_typed(f"python src/train.py debug=default {TINY}", root, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[DEBUG] - " in (only_run(root) / "train.log").read_text()
    plain = copy_repo(tmp_path / "plain")
    assert run_typed(f"python src/train.py trainer.max_epochs=1 {TINY}", plain, mnist_dir).returncode == 0
    assert "[DEBUG] - " not in (only_run(plain) / "train.log").read_text()


@pytest.mark.slow
def test_debug_profiler_writes_its_report_into_the_run_dir(tmp_path: Path, mnist_dir: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    done = run_typed(f"python src/train.py debug=profiler {TINY}", root, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    report = (only_run(root) / "fit-profiler.txt").read_text()
    assert "Profiler Report" in report and "run_training_epoch" in report


@pytest.mark.slow
def test_debug_overfit_overfits(tmp_path: Path, mnist_dir: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    done = run_typed("python src/train.py debug=overfit print_config=false", root, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    run = only_run(root)
    with (run / "csv" / "metrics.csv").open() as f:
        losses = [float(row["train/loss"]) for row in csv.DictReader(f) if row.get("train/loss")]
    assert len(losses) == 20  # one per epoch
    assert losses[-1] < 0.05, losses


@pytest.mark.slow
@pytest.mark.parametrize(
    ("override", "needles"),
    [
        ("trainer.limit_val_batches=0.00001", ["limit_val_batches"]),  # a fraction below one batch
        ("trainer.val_check_interval=100000", ["val_check_interval"]),  # more batches than an epoch has
        ("++trainer.enable_checkpointing=false", ["enable_checkpointing=False", "ModelCheckpoint"]),
        ("++trainer.bogus=1", ["unexpected keyword argument 'bogus'"]),
    ],
)
def test_lightnings_own_complaints_are_one_line(override: str, needles: list[str], tmp_path: Path, mnist_dir) -> None:
    root = copy_repo(tmp_path / "repo")
    done = run_typed(f"python src/train.py {override} print_config=false", root, mnist_dir)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
    assert all(n in line for n in needles), line
