"""`python src/report.py <sweep dir>`: the ranked table (report.csv, report.md, the console), the figures, partial
sweeps, k-fold means, Optuna studies; fast tests on fake sweep dirs, slow ones on real sweeps as typed."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import yaml
from helpers import runner
from helpers.paths import REPO
from helpers.repo_copy import copy_repo, run_typed

from trainlab.config.errors import UserError
from trainlab.report import write_report
from trainlab.report.collect import history, read_sweep
from trainlab.report.table import short

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = "trainer.max_epochs=1 trainer.limit_train_batches=2 trainer.limit_val_batches=1 trainer.limit_test_batches=1"


def fake_job(sweep: Path, n: int, overrides: list[str], metrics: dict | None, curve: list[float] = ()) -> Path:
    """A job dir as a run leaves it: its overrides, its metrics.json (None: not written) and, when `curve` is given,
    the CSV logger's metrics.csv with one val/acc per epoch (Lightning's rows: epochs from 0, val and train rows
    apart)."""
    job = sweep / str(n)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if metrics is not None:
        (job / "metrics.json").write_text(json.dumps(metrics))
    if curve:
        (job / "csv").mkdir()
        lines = ["epoch,step,train/loss,val/acc,val/loss"]
        for epoch, acc in enumerate(curve):
            lines += [f"{epoch},{epoch * 10 + 9},,{acc},{1 - acc}", f"{epoch},{epoch * 10 + 9},0.5,,"]
        (job / "csv" / "metrics.csv").write_text("\n".join(lines) + "\n")
    return job


def done(value: float, **more: object) -> dict:
    return {
        "val/acc_best": value,
        "test/acc": value - 0.01,
        "epochs": 2,
        "fit_seconds": 1.5,
        "status": "completed",
        **more,
    }


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert len(data) > 10_000, f"{path} is only {len(data)} bytes"  # a drawn figure, not an empty canvas


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_a_two_factor_grid_gets_a_ranked_table_curves_and_a_heatmap(tmp_path: Path, capsys) -> None:
    accs = {
        ("1e-3", "none"): 0.90,
        ("1e-3", "[dropout,l2]"): 0.95,
        ("3e-3", "none"): 0.92,
        ("3e-3", "[dropout,l2]"): 0.97,
    }
    for n, ((lr, reg), acc) in enumerate(accs.items()):
        fake_job(tmp_path, n, [f"optimizer.lr={lr}", f"regularization={reg}", "trainer.max_epochs=2"], done(acc),
                 curve=[acc - 0.1, acc])  # fmt: skip
    report = write_report(tmp_path)
    rows = read_csv(tmp_path / "report.csv")
    assert [r["job"] for r in rows] == ["3", "1", "2", "0"]  # best val/acc_best first
    assert rows[0] == {
        "rank": "1",
        "job": "3",
        "overrides": "optimizer.lr=3e-3 regularization=[dropout,l2]",  # trainer.max_epochs, shared by all, left out
        "val/acc_best": "0.9700",
        "test/acc": "0.9600",
        "epochs": "2",
        "fit_seconds": "1.5",
        "status": "completed",
    }
    assert {f.name for f in report.figures} == {"val_curves.png", "heatmap.png"}
    for figure in report.figures:
        assert_png(figure)
    md = (tmp_path / "report.md").read_text()
    assert "| 1 | 3 | optimizer.lr=3e-3 regularization=[dropout,l2] | 0.9700 | 0.9600 | 2 | 1.5 | completed |" in md
    assert "![heatmap](heatmap.png)" in md
    out = capsys.readouterr().out
    assert "4 jobs ranked by val/acc_best (highest first)" in out
    assert "regularization=[dropout,l2]" in out.replace("\n", "")  # printed as text, not read as rich markup


def test_no_heatmap_unless_exactly_two_keys_are_swept(tmp_path: Path) -> None:
    for n, lr in enumerate(["1e-3", "3e-3", "1e-2"]):
        fake_job(tmp_path / "one", n, [f"optimizer.lr={lr}"], done(0.9 + n / 100))
    for n, (a, b, c) in enumerate([(1, 1, 1), (2, 1, 2), (1, 2, 2)]):
        fake_job(tmp_path / "three", n, [f"a={a}", f"b={b}", f"c={c}"], done(0.9 + n / 100))
    for name in ("one", "three"):
        report = write_report(tmp_path / name, show=False)
        assert not (tmp_path / name / "heatmap.png").exists() and len(report.rows) == 3
        assert not report.figures  # no job has per-epoch values: no curves either
        assert report.notes == ["val_curves.png: not drawn (no job has a metrics.json history or csv/metrics.csv)"]


def test_sampled_floats_are_shown_to_four_significant_digits() -> None:
    assert short("optimizer.lr=0.0022881136684755237") == "optimizer.lr=0.002288"
    assert short("regularization.dropout=0.48183138025051464") == "regularization.dropout=0.4818"
    for kept in ("optimizer.lr=0.001", "optimizer.lr=3e-3", "data.batch_size=256", "model.hidden=[512,512]", "a=1.5"):
        assert short(kept) == kept


def test_a_partial_sweep_lists_failed_and_unfinished_jobs(tmp_path: Path) -> None:
    fake_job(tmp_path, 0, ["optimizer.lr=0.1"], {"status": "diverged", "epochs": 1, "val/acc_best": None})
    fake_job(tmp_path, 1, ["optimizer.lr=0.01"], done(0.91), curve=[0.8, 0.91])
    fake_job(tmp_path, 2, ["optimizer.lr=0.001"], None)  # still running, or killed before metrics.json
    fake_job(tmp_path, 3, ["optimizer.lr=0.0001"], done(0.95), curve=[0.85, 0.95])
    write_report(tmp_path, show=False)
    rows = read_csv(tmp_path / "report.csv")
    assert [(r["rank"], r["job"], r["status"]) for r in rows] == [
        ("1", "3", "completed"),
        ("2", "1", "completed"),
        ("-", "0", "diverged"),
        ("-", "2", "unfinished"),
    ]
    assert "2 completed, 1 diverged, 1 unfinished" in (tmp_path / "report.md").read_text()
    assert_png(tmp_path / "val_curves.png")


def test_curves_come_from_metrics_json_history_else_from_the_csv_logger(tmp_path: Path) -> None:
    logged = [{"epoch": 1, "val/acc": 0.5, "val/loss": 1.0}, {"epoch": 2, "val/acc": 0.7, "val/loss": 0.6}]
    fake_job(tmp_path, 0, ["a=1"], done(0.7, history=logged), curve=[0.1, 0.2])
    fake_job(tmp_path, 1, ["a=2"], done(0.8), curve=[0.6, 0.8])
    sweep = read_sweep(tmp_path)
    assert [(r["epoch"], r["val/acc"]) for r in history(sweep.jobs[0])] == [(1, 0.5), (2, 0.7)]
    assert [(r["epoch"], r["val/acc"], r["val/loss"]) for r in history(sweep.jobs[1])] == [
        (1, 0.6, pytest.approx(0.4)),
        (2, 0.8, pytest.approx(0.2)),
    ]


def test_the_metric_comes_from_the_sweep_config_and_losses_rank_lowest_first(tmp_path: Path) -> None:
    (tmp_path / "multirun.yaml").write_text("optimized_metric: val/loss\n")
    fake_job(tmp_path, 0, ["a=1"], {"val/loss": 0.3, "status": "completed"})
    fake_job(tmp_path, 1, ["a=2"], {"val/loss": 0.1, "status": "completed"})
    write_report(tmp_path, show=False)
    assert [r["job"] for r in read_csv(tmp_path / "report.csv")] == ["1", "0"]
    assert "ranked by val/loss (lowest first)" in (tmp_path / "report.md").read_text()


def test_k_fold_jobs_get_mean_and_std_per_setting(tmp_path: Path) -> None:
    for n, (lr, fold, acc) in enumerate([(1, 0, 0.9), (1, 1, 0.8), (1, 2, 0.7), (2, 0, 0.95), (2, 1, 0.93)]):
        fake_job(tmp_path, n, [f"data.fold={fold}", f"optimizer.lr={lr}", "data.folds=3"], done(acc))
    fake_job(tmp_path, 5, ["data.fold=2", "optimizer.lr=2", "data.folds=3"], None)
    report = write_report(tmp_path, show=False)
    assert len(report.rows) == 6
    assert report.folds == [
        {"setting": "optimizer.lr=1", "folds": "3/3", "val/acc_best": "0.8000 ± 0.1000", "test/acc": "0.7900 ± 0.1000"},
        {"setting": "optimizer.lr=2", "folds": "2/3", "val/acc_best": "0.9400 ± 0.0141", "test/acc": "0.9300 ± 0.0141"},
    ]
    assert "| optimizer.lr=1 | 3/3 | 0.8000 ± 0.1000 |" in (tmp_path / "report.md").read_text()


def test_seed_sweeps_get_mean_and_std_per_setting(tmp_path: Path) -> None:
    """`rung=a,b seed=0,1,2` (experiment=mnist_ladder): each rung's mean ± std over its seeds."""
    jobs = [("a", 0, 0.9), ("a", 1, 0.8), ("a", 2, 0.7), ("b", 0, 0.95), ("b", 1, 0.93)]
    for n, (rung, seed, acc) in enumerate(jobs):
        fake_job(tmp_path, n, [f"rung={rung}", f"seed={seed}"], done(acc))
    report = write_report(tmp_path, show=False)
    assert report.folds == []
    assert report.seeds == [
        {"setting": "rung=a", "seeds": "3/3", "val/acc_best": "0.8000 ± 0.1000", "test/acc": "0.7900 ± 0.1000"},
        {"setting": "rung=b", "seeds": "2/2", "val/acc_best": "0.9400 ± 0.0141", "test/acc": "0.9300 ± 0.0141"},
    ]
    assert "## Seeds (mean ± std over seeds)" in (tmp_path / "report.md").read_text()


def test_an_optuna_study_gets_its_three_plots_and_trial_states(tmp_path: Path) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="mnist", storage=storage, direction="maximize")
    for n in range(8):
        trial = study.ask()
        lr = trial.suggest_float("optimizer.lr", 1e-4, 1e-1, log=True)
        width = trial.suggest_categorical("model.hidden", ["[64]", "[256]"])
        overrides = [f"optimizer.lr={lr}", f"model.hidden={width}"]
        if n == 6:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            fake_job(tmp_path, n, overrides, None)
        elif n == 7:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            fake_job(tmp_path, n, overrides, None)
        else:
            value = 0.9 + n / 100 + (0.02 if width == "[256]" else 0)
            study.tell(trial, value)
            fake_job(tmp_path, n, overrides, done(value))
    (tmp_path / "optimization_results.yaml").write_text(yaml.safe_dump({"study_name": "mnist", "storage": storage}))
    report = write_report(tmp_path, show=False)
    names = {f.name for f in report.figures}
    assert {"optuna_history.png", "optuna_importances.png", "optuna_parallel.png"} <= names, report.notes
    for figure in report.figures:
        assert_png(figure)
    statuses = {r["job"]: r["status"] for r in read_csv(tmp_path / "report.csv")}
    assert statuses["6"] == "pruned" and statuses["7"] == "failed" and statuses["0"] == "completed"


def test_a_folder_that_is_not_a_sweep_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is not a sweep dir"):
        write_report(tmp_path)
    result = runner.run([sys.executable, str(REPO / "src" / "report.py"), str(tmp_path)])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path} is not a sweep dir (no <job>/.hydra/overrides.yaml in it); pass the folder of a "
        "multirun, e.g. logs/train/multiruns/<date_time>"
    ]
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.slow
def test_a_two_by_two_grid_with_list_choices_gets_a_report(tmp_path: Path, mnist_dir: Path, cache_dir: Path) -> None:
    sweep = tmp_path / "sweep"
    command = runner.command(
        "train",
        ["-m", "optimizer.lr=0.001,0.003", "regularization=[dropout,l2],none", *TINY.split(), "print_config=false",
         f"hydra.sweep.dir={sweep}", f"paths.cache_dir={cache_dir}"],
    )  # fmt: skip
    result = runner.run(command, env={"TRAINLAB_DATA_DIR": str(mnist_dir), "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    report = write_report(sweep, show=False)
    assert len(report.rows) == 4 and all(r["status"] == "completed" for r in report.rows)
    assert {r["overrides"] for r in report.rows} == {
        f"optimizer.lr={lr} regularization={reg}" for lr in ("0.001", "0.003") for reg in ("[dropout,l2]", "none")
    }
    assert {f.name for f in report.figures} == {"val_curves.png", "heatmap.png"}
    for figure in report.figures:
        assert_png(figure)


@pytest.mark.slow
def test_kfold_sweep_and_report_as_typed(tmp_path: Path, mnist_dir: Path) -> None:
    """`experiment=kfold` and then `python src/report.py <sweep dir>` from a copy of the repo, default paths."""
    root = copy_repo(tmp_path / "repo")
    trained = run_typed(f"python src/train.py experiment=kfold {TINY}", root, mnist_dir, env={"OMP_NUM_THREADS": "1"})
    assert trained.returncode == 0, trained.stderr[-3000:]
    [sweep] = list((root / "logs" / "train" / "multiruns").iterdir())
    relative = sweep.relative_to(root)
    reported = run_typed(f"python src/report.py {relative}", root, mnist_dir)
    assert reported.returncode == 0, reported.stderr[-3000:]
    rows = read_csv(sweep / "report.csv")
    assert sorted(r["overrides"] for r in rows) == ["data.fold=0", "data.fold=1", "data.fold=2"]
    accs = [float(r["val/acc_best"]) for r in rows]
    mean = sum(accs) / 3
    std = (sum((a - mean) ** 2 for a in accs) / 2) ** 0.5
    assert f"| (all folds) | 3/3 | {mean:.4f} ± {std:.4f} |" in (sweep / "report.md").read_text()
    assert "3 jobs ranked by val/acc_best (highest first)" in reported.stdout
    assert "mean ± std over folds" in reported.stdout
    assert_png(sweep / "val_curves.png")
