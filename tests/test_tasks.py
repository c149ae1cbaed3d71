"""The `task` group: each task's head, loss and metrics are the course's table; monitors follow the task; a task
that does not fit the data or the model is one line."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers.config import compose_train

from trainlab.classifier import Classifier
from trainlab.config.validation import problems
from trainlab.metrics import FOLD_EVERY, EpochMeans, build_metrics
from trainlab.tasks import Task

# The course's table: task → (activation, loss, metric classes of its metrics group, the monitor and its mode).
TABLE = {
    "binary": ("sigmoid", "bce", {"BinaryAccuracy", "BinaryF1Score", "BinaryAUROC"}, "acc", "max"),
    "multiclass": ("softmax", "cross_entropy", {"MulticlassAccuracy"}, "acc", "max"),
    "multilabel": ("sigmoid", "bce", {"MultilabelAccuracy", "MultilabelF1Score"}, "acc", "max"),
    "regression": (
        "identity",
        "mse",
        {"MeanSquaredError", "MeanAbsoluteError", "R2Score", "MeanPredictorRMSE"},
        "rmse",
        "min",
    ),
    "bounded_regression": (
        "sigmoid",
        "mse",
        {"MeanSquaredError", "MeanAbsoluteError", "RoundedAccuracy", "MeanPredictorRMSE"},
        "rmse",
        "min",
    ),
}


def reference_loss(task: str, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The table's loss written out from its formula."""
    if task == "multiclass":
        return -(logits.log_softmax(dim=1).gather(1, target[:, None])).mean()
    t = target.reshape(logits.shape).float()
    if task in ("binary", "multilabel"):
        p = logits.sigmoid()
        return -(t * p.log() + (1 - t) * (1 - p).log()).mean()
    out = logits.sigmoid() if task == "bounded_regression" else logits
    return ((out - t) ** 2).mean()


def batch(task: str, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    units = {"multiclass": 5, "binary": 1, "multilabel": 3, "regression": 2, "bounded_regression": 1}[task]
    logits = torch.randn(n, units, generator=g) * 3
    if task == "multiclass":
        return logits, torch.randint(0, units, (n,), generator=g)
    if task == "binary":
        return logits, torch.randint(0, 2, (n,), generator=g)
    if task == "multilabel":
        return logits, torch.randint(0, 2, (n, units), generator=g)
    if task == "regression":
        return logits, torch.randn(n, units, generator=g)
    return logits, torch.rand(n, units, generator=g)


@pytest.mark.parametrize("task", sorted(TABLE))
def test_each_task_sets_the_tables_head_loss_and_metrics(task: str) -> None:
    activation, loss, metric_classes, monitor, mode = TABLE[task]
    data = {"binary": "breast_cancer", "regression": "diabetes"}.get(task, "wine")
    cfg = compose_train([f"data={data}", f"task={task}"])
    assert (cfg.task.activation, cfg.task.loss, cfg.task.monitor, cfg.task.mode) == (activation, loss, monitor, mode)
    assert {spec._target_.rsplit(".", 1)[-1] for spec in cfg.metrics.values()} == metric_classes
    logits, target = batch(task)
    chosen = Task.from_config(cfg.task)
    expected = {"softmax": logits.softmax(1), "sigmoid": logits.sigmoid(), "identity": logits}[activation]
    torch.testing.assert_close(chosen.probabilities(logits), expected)
    torch.testing.assert_close(chosen.loss(logits, target), reference_loss(task, logits, target))
    # The metrics group builds and takes the task's inputs (probabilities of the right shape).
    metrics = build_metrics(dict(cfg.metrics), logits.shape[1], target_mean=[0.0] * logits.shape[1])
    metrics.update(*chosen.metric_inputs(logits, target))
    assert all(torch.isfinite(v).all() for v in metrics.compute().values())


def test_binary_cross_entropy_with_logits_equals_the_sigmoid_formula() -> None:
    g = torch.Generator().manual_seed(1)
    logits, target = torch.randn(1000, 1, generator=g) * 4, torch.randint(0, 2, (1000,), generator=g)
    p, t = logits.sigmoid().squeeze(1).double(), target.double()
    formula = -(t * p.log() + (1 - t) * (1 - p).log()).mean()
    torch.testing.assert_close(Task("binary", "bce").loss(logits, target).double(), formula, rtol=1e-5, atol=1e-6)
    # On the logits it stays finite where the two-step formula's log(0) would not.
    far, wrong = torch.tensor([[200.0], [-200.0]]), torch.tensor([0, 1])  # confidently wrong: loss 200 each
    p, t = far.sigmoid().squeeze(1), wrong.float()
    assert not torch.isfinite(-(t * p.log() + (1 - t) * (1 - p).log()).mean())
    assert Task("binary", "bce").loss(far, wrong).item() == pytest.approx(200.0)


def test_label_smoothing_moves_binary_targets_towards_one_half() -> None:
    logits, target = torch.zeros(4, 1), torch.tensor([0, 1, 0, 1])
    smooth = Task("binary", "bce").loss(torch.full((4, 1), 5.0), target, label_smoothing=0.2)
    soft = torch.tensor([[0.1], [0.9], [0.1], [0.9]])
    torch.testing.assert_close(smooth, F.binary_cross_entropy_with_logits(torch.full((4, 1), 5.0), soft))
    assert Task("binary", "bce").loss(logits, target, 0.2) == pytest.approx(torch.log(torch.tensor(2.0)).item())


def test_monitor_and_optimized_metric_follow_the_task_unless_set() -> None:
    default = compose_train([])
    assert default.callbacks.model_checkpoint.monitor == "val/acc" and default.callbacks.model_checkpoint.mode == "max"
    assert default.optimized_metric == "val/acc_best" and "val/acc" in default.callbacks.epoch_line["keys"]
    regression = compose_train(["data=diabetes"])
    assert regression.task.name == "regression"
    assert (regression.callbacks.model_checkpoint.monitor, regression.callbacks.model_checkpoint.mode) == (
        "val/rmse",
        "min",
    )
    assert regression.optimized_metric == "val/rmse_best" and not problems(regression)
    assert compose_train(["data=diabetes", "optimized_metric=val/mae"]).optimized_metric == "val/mae"
    # A metric the task does not log is refused (it would be None to a sweeper or a checkpoint).
    assert any(
        "optimized_metric=val/acc_best" in p
        for p in problems(compose_train(["data=diabetes", "optimized_metric=val/acc_best"]))
    )


def test_each_shipped_set_picks_its_task() -> None:
    assert compose_train(["data=wine"]).task.name == "multiclass"
    assert compose_train(["data=breast_cancer"]).task.name == "binary"
    assert compose_train(["data=diabetes"]).task.name == "regression"
    assert compose_train(["data=diabetes", "task=binary"]).task.name == "binary"  # the command line wins (then refused)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["task=binary"], "task=binary does not fit data=MNISTDataModule"),
        (["data=wine", "model=cnn"], "model=cnn takes images"),
        (["data=wine", "regularization=augment"], "regularization.augment=true has no effect on tabular data"),
        (["data=diabetes", "regularization.label_smoothing=0.1"], "has no effect on task=regression"),
        (["data=diabetes", "metrics=multiclass"], "metrics.acc=MulticlassAccuracy does not fit task=regression"),
        (["data=csv"], "data.path is not set"),
        (["task=bounded_regression", "data=wine", "task.loss=cross_entropy"], "task.loss=cross_entropy"),
        (["data=wine", "data.val_size=1.5"], "data.val_size=1.5 is out of range"),
    ],
)
def test_what_does_not_fit_the_task_is_refused_in_one_line(overrides: list[str], message: str) -> None:
    found = problems(compose_train(overrides))
    assert any(message in p for p in found), found


def test_training_sums_report_accuracy_only_where_the_task_has_one() -> None:
    logits, target = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]]), torch.tensor([1, 1, 0, 0])
    means = EpochMeans(Task("binary", "bce").correct)
    means.update(torch.tensor(0.5), logits, target)
    assert means.compute()["acc"] == pytest.approx(0.5)
    regression = EpochMeans(None)
    regression.update(torch.tensor(0.5), logits, target.float())
    assert "acc" not in regression.compute() and regression.compute()["loss"] == pytest.approx(0.5)
    labels = EpochMeans(Task("multilabel", "bce").correct)
    labels.update(torch.tensor(0.1), torch.tensor([[1.0, -1.0], [1.0, 1.0]]), torch.tensor([[1, 1], [1, 1]]))
    assert labels.compute()["acc"] == pytest.approx(0.75)


def test_training_sums_fold_kept_steps_into_the_example_weighted_means() -> None:
    """Steps of unequal batch sizes, past the fold limit, with a penalty: the means a plain loop computes."""
    gen = torch.Generator().manual_seed(0)
    means = EpochMeans()
    loss_n = correct = penalty = n = 0.0
    steps = FOLD_EVERY + 37
    for step in range(steps):
        size = 8 if step % 5 else 3
        logits, target = torch.randn(size, 4, generator=gen), torch.randint(0, 4, (size,), generator=gen)
        loss, pen = torch.rand((), generator=gen), torch.rand((), generator=gen)
        means.update(loss, logits, target, pen if step % 2 else None)
        loss_n += float(loss) * size
        correct += float((logits.argmax(1) == target).sum())
        penalty += float(pen) if step % 2 else 0.0
        n += size
    got = means.compute()
    assert got["loss"] == pytest.approx(loss_n / n, rel=1e-6)
    assert got["acc"] == pytest.approx(correct / n, rel=1e-6)
    assert got["penalty"] == pytest.approx(penalty / steps, rel=1e-6)
    means.reset()
    means.update(torch.tensor(2.0), torch.tensor([[0.0, 1.0]]), torch.tensor([0]))
    assert means.compute()["loss"] == pytest.approx(2.0) and means.compute()["acc"] == 0.0


def test_a_regression_learns_standardized_targets_and_answers_in_their_units() -> None:
    net = {"_target_": "trainlab.models.MLP", "hidden": [4]}
    stats = {"mean": [150.0], "std": [70.0]}
    model = Classifier(
        net,
        [3],
        1,
        {"_target_": "torch.optim.SGD", "lr": 0.1},
        metrics={},
        task={"name": "regression"},
        target_stats=stats,
    )
    x = torch.randn(5, 3)
    torch.testing.assert_close(model(x), model.net(x) * 70 + 150)
    assert model.task_name == "regression" and torch.equal(model.probabilities(model(x)), model(x))
    classifier = Classifier(net, [3], 4, {"_target_": "torch.optim.SGD", "lr": 0.1})  # a checkpoint without a task
    assert classifier.task_name == "multiclass"
    torch.testing.assert_close(classifier.probabilities(classifier(x)), classifier(x).softmax(1))
