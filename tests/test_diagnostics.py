"""Diagnostics (trainlab/diagnostics/): the verdict, the EWMA, the gradient-flow and activation statistics as
functions, and what a run leaves behind (curves.png, the history, the verdict, the monitors' metrics and PNGs)."""

from __future__ import annotations

import logging

import pytest
import torch
from helpers.config import QUICK, compose_train
from PIL import Image
from torch import nn

from trainlab.config.validation import problems
from trainlab.diagnostics.activations import activation_stats
from trainlab.diagnostics.ewma import EWMA, ewma_series
from trainlab.diagnostics.gradients import flow_problem, weight_layers
from trainlab.diagnostics.steps import steps_line
from trainlab.diagnostics.verdict import diagnose
from trainlab.models import MLP

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("train_error", "val_error", "reference", "verdict"),
    [
        (0.15, 0.16, 0.0, "high bias"),  # cannot fit the training set; no gap
        (0.01, 0.11, 0.0, "high variance"),  # fits it, does not generalize
        (0.15, 0.30, 0.0, "high bias and high variance"),
        (0.01, 0.02, 0.0, "good fit"),
        (0.15, 0.16, 0.14, "good fit"),  # a hard task: humans err 14% of the time too
    ],
)
def test_verdict_from_numbers(train_error, val_error, reference, verdict) -> None:
    d = diagnose(train_error, val_error, reference, bias_threshold=0.02, variance_threshold=0.02)
    assert d.verdict == verdict
    m = d.metrics()
    assert m["diagnosis/verdict"] == verdict
    assert m["diagnosis/gap"] == pytest.approx(val_error - train_error)
    assert m["diagnosis/avoidable_bias"] == pytest.approx(train_error - reference)
    assert ("bigger net" in d.remedy) == ("bias" in verdict)
    assert ("regularization" in d.remedy) == ("variance" in verdict)


def test_verdict_thresholds_act() -> None:
    assert diagnose(0.05, 0.06, bias_threshold=0.02).verdict == "high bias"
    assert diagnose(0.05, 0.06, bias_threshold=0.10).verdict == "good fit"
    assert diagnose(0.0, 0.05, variance_threshold=0.10).verdict == "good fit"


def test_ewma_matches_a_hand_computation() -> None:
    # β = 0.5 on 1, 2, 3: v = 0.5, 1.25, 2.125; corrected by 1 − β^t = 0.5, 0.75, 0.875.
    assert ewma_series([1.0, 2.0, 3.0], beta=0.5) == pytest.approx([1.0, 1.25 / 0.75, 2.125 / 0.875])
    # β = 0.98 on a constant: corrected, the average is the constant from the first step (uncorrected: 0.02·c).
    assert ewma_series([4.0] * 5, beta=0.98) == pytest.approx([4.0] * 5)
    ewma = EWMA(0.9)
    ewma.update(torch.tensor(2.0))
    assert float(ewma.v) == pytest.approx(0.2) and float(ewma.value()) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="ewma_beta"):
        EWMA(1.0)


def test_ewma_read_now_and_then_equals_the_step_by_step_recursion() -> None:
    """The steps are kept and folded in when read (or every FOLD_EVERY steps): the same v_t as one update a step."""
    losses = (torch.rand(700, generator=torch.Generator().manual_seed(0)) * 3).tolist()
    ewma, v = EWMA(0.98), 0.0
    for t, loss in enumerate(losses, 1):
        ewma.update(torch.tensor(loss))
        v = 0.98 * v + 0.02 * loss
        if t in (1, 2, 50, 51, 300, 700):  # 300 and 700: more than FOLD_EVERY steps since the last read
            assert float(ewma.value()) == pytest.approx(v / (1 - 0.98**t), rel=1e-5)


def test_dead_relu_share_is_one_with_a_large_negative_bias() -> None:
    layer = nn.Linear(20, 8)
    nn.init.constant_(layer.bias, -100.0)
    x = torch.randn(64, 20)
    assert activation_stats(nn.ReLU(), torch.relu(layer(x)))[2].item() == 1.0
    nn.init.zeros_(layer.bias)
    assert activation_stats(nn.ReLU(), torch.relu(layer(x)))[2].item() == 0.0  # each unit fires for some input
    assert activation_stats(nn.Sigmoid(), torch.sigmoid(100 * layer(x)))[2].item() > 0.9  # pinned at 0 or 1
    assert activation_stats(nn.Tanh(), torch.tanh(0.01 * layer(x)))[2].item() == 0.0  # near 0: not saturated


def first_and_last_gradient_norms(activation: str, he: bool) -> tuple[float, float]:
    torch.manual_seed(0)
    net = MLP([1, 28, 28], 10, hidden=[32] * 9, activation=activation)  # 10 Linear layers
    if he:
        for _, weight in weight_layers(net):
            nn.init.kaiming_normal_(weight, nonlinearity="relu")
    nn.functional.cross_entropy(net(torch.randn(128, 1, 28, 28)), torch.randint(0, 10, (128,))).backward()
    norms = [w.grad.norm().item() for _, w in weight_layers(net)]
    assert len(norms) == 10
    return norms[0], norms[-1]


def test_vanishing_gradients_in_a_deep_sigmoid_net_not_with_relu_and_he() -> None:
    assert flow_problem(*first_and_last_gradient_norms("sigmoid", he=False), ratio=1e-3) == "vanishing"
    assert flow_problem(*first_and_last_gradient_norms("relu", he=True), ratio=1e-3) is None
    assert flow_problem(1.0, 1e-5, ratio=1e-3) == "exploding"


ISSUE_NET = ["model.hidden=[64,64,64,64,64,64,64,64]", "model.activation=sigmoid", "init=normal"]


def issue_net_gradient_norms(*overrides: str) -> tuple[float, float]:
    """First and last layer's gradient norms of the issue's acceptance net, built as `src/train.py` builds it."""
    from types import SimpleNamespace

    from trainlab.init import init_from_config
    from trainlab.training import build_model, plain

    cfg = compose_train([*ISSUE_NET, *overrides])
    torch.manual_seed(0)
    model = build_model(cfg, SimpleNamespace(shape=(1, 28, 28), num_classes=10))
    init_from_config(model.net, plain(cfg.init), None)
    x, y = torch.randn(256, 1, 28, 28), torch.randint(0, 10, (256,))
    model.objective(x, y).total.backward()
    norms = [w.grad.norm().item() for _, w in weight_layers(model.net)]
    return norms[0], norms[-1]


def test_the_issue_sigmoid_net_vanishes_by_default_not_with_batch_norm() -> None:
    # `python src/train.py model.hidden=[64]*8 model.activation=sigmoid init=normal`: with the default recipe (no
    # batch norm) its gradients vanish by a factor of about 1e-13 and the monitor warns
    # (tests/test_diagnostics_runs.py runs it); batch norm rescales every layer's input, so they reach the first layer.
    first, last = issue_net_gradient_norms()  # regularization=none, the default
    assert flow_problem(first, last, ratio=1e-3) == "vanishing" and first / last < 1e-9
    first, last = issue_net_gradient_norms("regularization=batchnorm")
    assert flow_problem(first, last, ratio=1e-3) is None and 0.1 < first / last < 10


def test_steps_line_says_s_equals_n_e_over_b() -> None:
    assert steps_line(55000, 128, 3, 430, 1290) == (
        "steps: n=55000 examples / b=128 (⌈n/b⌉ = 430): 430 steps per epoch × e=3 epochs = 1290 steps"
    )


def test_bad_diagnostics_values_are_one_line_each() -> None:
    found = problems(compose_train(["diagnostics.ewma_beta=1.5", "diagnostics.gradients.every_n_steps=-1"]))
    assert any(p.startswith("diagnostics.ewma_beta=1.5 is out of range") for p in found), found
    assert any(p.startswith("diagnostics.gradients.every_n_steps=-1") for p in found), found
    found = problems(compose_train(["diagnostics.curves=false"]))
    assert found and "diagnostics.verdict=true has no effect" in found[0]
    assert problems(compose_train(["diagnostics=none"])) == []
    # The monitors' metrics are metrics a run logs, only while the monitors are on.
    assert problems(compose_train(["optimized_metric=train/loss_ewma"])) == []
    found = problems(compose_train(["optimized_metric=train/grad_norm", "diagnostics.gradients.every_n_steps=0"]))
    assert found and found[0].startswith("optimized_metric=train/grad_norm is not a metric this run logs")


def test_a_run_leaves_curves_history_verdict_and_monitors(train_run, tmp_path, caplog) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    caplog.set_level(logging.INFO)
    metrics = train_run(*QUICK, "trainer.max_epochs=2", "trainer.log_every_n_steps=5", "logger=tensorboard")
    run = tmp_path / "run"
    for name in ("curves.png", "gradients.png", "activations.png"):
        data = (run / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        with Image.open(run / name) as image:
            image.verify()
    history = metrics["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    for key in ("train/loss", "train/acc", "val/loss", "val/acc", "train/lr", "train/grad_norm", "train/update_ratio"):
        assert all(isinstance(row[key], float) for row in history), key
    assert history[-1]["val/acc"] == pytest.approx(metrics["val/acc"])
    assert metrics["diagnosis/verdict"] in ("high bias", "high variance", "high bias and high variance", "good fit")
    # The verdict's errors: the best checkpoint in eval mode on a fixed sample of the 55000 training examples and of
    # the validation split, no larger than what the run saw (limit_train_batches=20 of 128, limit_val_batches=2 of
    # 1000) and at most 5000.
    best = max(history, key=lambda row: row["val/acc"])
    assert metrics["diagnosis/weights"] == "best checkpoint" and metrics["diagnosis/epoch"] == best["epoch"]
    assert (metrics["diagnosis/train_samples"], metrics["diagnosis/train_split_size"]) == (20 * 128, 55000)
    assert metrics["diagnosis/val_samples"] == 2 * 1000
    assert 0 < metrics["diagnosis/train_error"] < 0.5 and 0 < metrics["diagnosis/val_error"] < 0.5
    assert metrics["train/loss_ewma"] > 0 and metrics["train/grad_norm"] > 0 and 0 < metrics["train/update_ratio"] < 1
    said = caplog.text
    assert "steps: n=55000 examples / b=128 (⌈n/b⌉ = 430): 20 steps per epoch × e=2 epochs = 40 steps" in said
    assert f"diagnosis: {metrics['diagnosis/verdict']} (train error" in said

    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    events.Reload()
    tags = events.Tags()
    assert "diagnostics/curves" in tags["images"]
    assert {"activations/layers.2", "activations/layers.4"} <= set(tags["histograms"]), tags["histograms"]
    assert [e.step for e in events.Scalars("train/loss_ewma")][:3] == [4, 9, 14]  # every log_every_n_steps
    assert "gradients/layers.1/norm" in tags["scalars"] and "activations/layers.2/saturated" in tags["scalars"]


def test_diagnostics_none_turns_every_monitor_off(train_run, tmp_path) -> None:
    metrics = train_run(*QUICK, "diagnostics=none")
    run = tmp_path / "run"
    assert not any((run / name).exists() for name in ("curves.png", "gradients.png", "activations.png"))
    assert not any(k == "history" or k.startswith("diagnosis/") for k in metrics)
    assert not {"train/loss_ewma", "train/grad_norm", "train/update_ratio"} & set(metrics)
    assert metrics["test/acc"] > 0.5  # the run itself is unchanged


def test_the_diagnostics_group_alone_builds_the_diagnostics() -> None:
    from omegaconf import OmegaConf

    from trainlab.diagnostics.build import diagnostics_callbacks

    def built(*overrides: str) -> list[str]:
        settings = OmegaConf.to_container(compose_train(list(overrides)).diagnostics, resolve=True)
        return [type(c).__name__ for c in diagnostics_callbacks(settings)]

    everything = ["LearningCurves", "GradientFlow", "ActivationMonitor", "LossEWMA", "StepCount"]
    assert built() == built("callbacks=none") == everything
    assert built("diagnostics=none") == []
    assert built("diagnostics.gradients.every_n_steps=0", "diagnostics.ewma_beta=null") == [
        "LearningCurves",
        "ActivationMonitor",
        "StepCount",
    ]


def test_callbacks_none_keeps_the_diagnostics(train_run, tmp_path) -> None:
    # No callbacks group (and no Lightning checkpoint): the diagnostics stay; the verdict measures the final weights.
    metrics = train_run(
        *QUICK, "callbacks=none", "++trainer.enable_checkpointing=false", "diagnostics.activations.every_n_epochs=0"
    )
    run = tmp_path / "run"
    assert metrics["ckpt_best"] == ""
    assert (run / "curves.png").is_file() and (run / "gradients.png").is_file()
    assert not (run / "activations.png").exists()  # each monitor still follows its own setting
    assert [row["epoch"] for row in metrics["history"]] == [1]
    assert metrics["diagnosis/weights"] == "final" and metrics["diagnosis/epoch"] == 1
    assert "train/loss_ewma" in metrics


def test_the_summary_shows_the_verdict_but_not_its_inputs() -> None:
    from trainlab.outputs import shown_in_summary

    assert shown_in_summary("diagnosis/verdict", "good fit") and shown_in_summary("test/acc", 0.98)
    assert not shown_in_summary("diagnosis/gap", 0.01) and not shown_in_summary("history", [])
    assert not shown_in_summary("test/acc_per_class", {"0": 0.99})


def test_the_final_test_of_an_earlier_best_checkpoint_keeps_the_whole_record(train_run) -> None:
    # The best checkpoint by val/acc taken as the *worst* (mode=min): epoch 1 of 3. Testing it loads that checkpoint,
    # whose history, gradient and activation records end at epoch 1; metrics.json and the plots keep all 3 epochs.
    metrics = train_run(*QUICK, "trainer.max_epochs=3", "callbacks.model_checkpoint.mode=min")
    assert metrics["ckpt_best"].endswith("epoch_000.ckpt") and metrics["diagnosis/epoch"] == 1
    assert [row["epoch"] for row in metrics["history"]] == [1, 2, 3]


def test_a_fit_record_is_restored_for_a_fit_only() -> None:
    from trainlab.diagnostics.curves import LearningCurves

    curves = LearningCurves()
    curves.history = [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}]
    earlier = {"history": [{"epoch": 1}]}
    curves.setup(None, None, stage="test")
    curves.load_state_dict(earlier)  # the final test loading the best checkpoint
    assert [row["epoch"] for row in curves.history] == [1, 2, 3]
    curves.setup(None, None, stage="fit")
    curves.load_state_dict(earlier)  # a fit resumed from that checkpoint
    assert [row["epoch"] for row in curves.history] == [1]
