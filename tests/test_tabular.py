"""Tabular data: CSV files (imputation, one-hot, scaling from the training rows only; bad files refused in one
line), scikit-learn's bundled sets, and the Titanic and Boston experiments on tables in the public files' layout."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from helpers.config import compose_config
from helpers.fake_tables import boston_csv, titanic_csv, write_csv

from trainlab.data import CSVDataModule


def small_table(path: Path, changed: set[int] | None = None) -> Path:
    """40 rows: `num` (row id + 0.5, never missing), `num2` (every 4th missing), `cat` (a/b/c, every 5th missing) and
    a yes/no label. Rows in `changed` get num2 = 1e6 and a category no other row has."""
    rows = []
    for i in range(40):
        num2 = "" if i % 4 == 0 else f"{(i * 7) % 11 + 0.25}"
        cat = "" if i % 5 == 0 else "abc"[i % 3]
        if changed and i in changed:
            num2, cat = "1000000", "zzz"
        rows.append([i + 0.5, num2, cat, "yes" if i % 2 else "no"])
    return write_csv(path, ["num", "num2", "cat", "label"], rows)


def module(path: Path, tmp_path: Path, **kwargs) -> CSVDataModule:
    options = {"target": "label", "categorical": ["cat"], "task": "binary", "val_size": 0.25, "test_size": 0.25}
    dm = CSVDataModule(str(path), data_dir=tmp_path, cache_dir=tmp_path, **{**options, **kwargs})
    dm.setup()
    return dm


def test_a_csv_with_categoricals_and_missing_values_is_fitted_on_the_training_rows_only(tmp_path: Path) -> None:
    dm = module(small_table(tmp_path / "a.csv"), tmp_path)
    train, labels = dm.splits["train"]
    assert dm.encoder.names[:2] == ["num", "num2"] and all(n.startswith("cat=") for n in dm.encoder.names[2:])
    assert dm.shape == (train.shape[1],) and dm.num_classes == 1 and len(train) == 20 and labels.dtype == torch.int64
    ids = {int(v - 0.5) for v in train[:, 0].tolist()}
    # Missing numbers are filled with the training rows' mean, missing categories with their most frequent one.
    present = [(i * 7) % 11 + 0.25 for i in ids if i % 4]
    assert dm.encoder.fills[1] == pytest.approx(sum(present) / len(present))
    cats = [("abc"[i % 3]) for i in ids if i % 5]
    assert dm.encoder.names[2 + int(dm.encoder.fills[2])] == f"cat={max(sorted(set(cats)), key=cats.count)}"
    for split in ("train", "val", "test"):
        x = dm.splits[split][0]
        assert not x.isnan().any() and x.dtype == torch.float32
        assert torch.equal(x[:, 2:].sum(dim=1), torch.ones(len(x)))  # exactly one category per row
    # Numeric columns are standardized with the training rows' statistics; one-hot columns stay 0/1.
    scaled = train * dm.scale + dm.shift
    assert scaled[:, :2].mean(dim=0).abs().max() < 1e-5 and scaled[:, :2].std(dim=0).sub(1).abs().max() < 1e-5
    assert torch.equal(dm.scale[2:], torch.ones(len(dm.scale) - 2)) and not dm.shift[2:].any()
    # No leakage: other values (and a new category) in the validation and test rows change none of it.
    other = module(small_table(tmp_path / "b.csv", changed=set(range(40)) - ids), tmp_path)
    assert torch.equal(other.splits["train"][0], train)
    assert other.encoder.fills == dm.encoder.fills and other.encoder.names == dm.encoder.names
    assert torch.equal(other.scale, dm.scale) and torch.equal(other.shift, dm.shift)
    held_out = torch.cat([other.splits["val"][0], other.splits["test"][0]])
    assert (held_out[:, 1] == 1e6).all() and not held_out[:, 2:].any()  # an unseen category: all zeros


def test_targets_are_encoded_for_the_task(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", ["x", "a", "b", "y"], [[i, i % 2, (i // 2) % 2, i / 40] for i in range(40)])
    labels = module(path, tmp_path, target=["a", "b"], features=["x"], categorical=[], task="multilabel")
    assert labels.num_classes == 2 and set(labels.splits["train"][1].unique().tolist()) == {0, 1}
    bounded = module(path, tmp_path, target="y", features=["x"], categorical=[], task="bounded_regression")
    assert bounded.splits["train"][1].dtype == torch.float32 and bounded.target_stats is not None
    classes = module(path, tmp_path, target="a", features=["x"], categorical=[], task="multiclass")
    assert classes.num_classes == 2 and classes.target.classes == ["0", "1"]


BAD = [
    (["data.path=<tmp>/missing.csv"], "error: data.path=<tmp>/missing.csv: no such file"),
    (["data.target=Survivd"], "error: data.path=<tmp>/titanic.csv: no target column 'Survivd'"),
    (
        ["data.features=null"],
        "error: data.path=<tmp>/titanic.csv: column 'Name' is not numeric (e.g. '\"Doe, Mr. John 0\"')",
    ),
    (
        ["data.target=Pclass", "data.features=[Age,Fare]", "data.categorical=[]"],
        "error: data.target=Pclass has 3 distinct values (1, 2, 3): task=binary needs exactly 2; use task=multiclass",
    ),
    (["task=regression", "data.target=Sex"], "error: data.target=Sex: column 'Sex' is not numeric"),
]


@pytest.mark.parametrize(
    ("overrides", "line"), BAD, ids=["missing file", "no target", "text", "3 classes", "text target"]
)
def test_a_bad_csv_is_one_line_and_exit_2(overrides, line, tmp_path: Path, train_run, capsys) -> None:
    titanic_csv(tmp_path / "titanic.csv", rows=30)
    typed = [o.replace("<tmp>", str(tmp_path)) for o in overrides]
    with pytest.raises(SystemExit) as exit_:
        train_run("experiment=titanic", f"data.path={tmp_path / 'titanic.csv'}", *typed)
    assert exit_.value.code == 2
    [printed] = capsys.readouterr().err.strip().splitlines()
    assert printed.startswith(line.replace("<tmp>", str(tmp_path))), printed


def test_shipped_sets_refuse_a_task_their_target_does_not_fit(tmp_path: Path, train_run, capsys) -> None:
    with pytest.raises(SystemExit):
        train_run("data=diabetes", "task=binary")
    assert capsys.readouterr().err.strip() == (
        "error: data=diabetes has a regression target, not one for task=binary: use task=regression "
        "(or leave task out: data=diabetes picks it)"
    )


@pytest.mark.slow
def test_the_cli_reports_a_bad_csv_in_one_line(tmp_path: Path, run_entry) -> None:
    done = run_entry("train", "data=csv", f"data.path={tmp_path / 'none.csv'}", "data.target=y")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        f"error: data.path={tmp_path / 'none.csv'}: no such file; pass data.path=<a CSV file with a header row>"
    ]


@pytest.mark.slow
def test_wine_reaches_95_percent_and_its_checkpoint_tests_the_same_with_eval(tmp_path: Path, train_run) -> None:
    metrics = train_run("data=wine", "model.hidden=[64]")
    assert metrics["test/acc"] >= 0.95 and metrics["epochs"] == 3
    from trainlab.checkpoints import load_checkpoint
    from trainlab.evaluation import evaluate

    cfg = compose_config("eval", [f"ckpt_path={metrics['ckpt_best']}"], output_dir=tmp_path / "eval")
    again = evaluate(cfg, load_checkpoint(metrics["ckpt_best"]))
    assert again["test/acc"] == pytest.approx(metrics["test/acc"])


@pytest.mark.slow
def test_diabetes_beats_the_mean_predictor_and_breast_cancer_reports_auroc(train_run, tmp_path: Path) -> None:
    diabetes = train_run("data=diabetes", "task=regression", "data.passes_per_epoch=1", run_dir=tmp_path / "diabetes")
    assert diabetes["test/rmse"] < diabetes["test/rmse_mean_predictor"] and "train/acc" not in diabetes
    assert diabetes["val/rmse_best"] == min(diabetes["val/rmse_best"], diabetes["val/rmse"])
    cancer = train_run(
        "task=binary",
        "data=breast_cancer",
        "trainer.max_epochs=1",
        "data.passes_per_epoch=1",
        run_dir=tmp_path / "cancer",
    )
    assert cancer["test/acc"] > 0.8 and cancer["test/auroc"] > 0.9 and 0 <= cancer["test/f1"] <= 1


@pytest.mark.slow
def test_titanic_and_boston_layouts_run_through_their_experiments(tmp_path: Path, train_run) -> None:
    titanic = train_run(
        "experiment=titanic", f"data.path={titanic_csv(tmp_path / 'train.csv')}", run_dir=tmp_path / "titanic"
    )
    assert {"test/acc", "test/auroc", "test/f1"} <= titanic.keys() and titanic["tags"] == ["titanic", "binary"]
    boston = train_run(
        "experiment=boston", f"data.path={boston_csv(tmp_path / 'housing.csv')}", run_dir=tmp_path / "boston"
    )
    assert boston["test/rmse"] < boston["test/rmse_mean_predictor"] and not math.isnan(boston["test/r2"])


def test_passes_per_epoch_repeat_the_training_rows_only(tmp_path: Path) -> None:
    once, thrice = (module(small_table(tmp_path / "a.csv"), tmp_path, passes_per_epoch=n) for n in (1, 3))
    assert torch.equal(thrice.splits["train"][0], once.splits["train"][0].repeat(3, 1))
    assert (
        torch.equal(thrice.splits["val"][0], once.splits["val"][0]) and len(thrice.train_dataloader()) == 60 // 16 + 1
    )
    assert torch.equal(thrice.scale, once.scale)
