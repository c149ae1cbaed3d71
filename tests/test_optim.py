"""Every optimizer and scheduler config changes parameters or the learning rate as its definition says."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import lightning as L
import pytest
import torch
from helpers.config import compose_train
from omegaconf import OmegaConf

from trainlab.classifier import Classifier
from trainlab.data.batches import TensorBatches

NET = {"_target_": "trainlab.models.MLP", "hidden": [6], "activation": "tanh"}


def optimizer_cfg(name: str, **overrides) -> dict:
    cfg = OmegaConf.to_container(compose_train([f"optimizer={name}"]).optimizer, resolve=True)
    return {**cfg, **overrides}


def classifier(optimizer: str = "adam", scheduler: dict | None = None, **regularization) -> Classifier:
    torch.manual_seed(0)
    return Classifier(NET, [1, 3, 3], 4, optimizer_cfg(optimizer), scheduler, regularization)


def one_step(model: Classifier, steps: int = 1) -> list[dict[str, torch.Tensor]]:
    """Run `steps` optimizer steps on a fixed batch; return the parameters and gradients before each step."""
    optimizer = model.configure_optimizers()
    torch.manual_seed(1)
    x, y = torch.randn(8, 1, 3, 3), torch.randint(0, 4, (8,))
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        model.objective(x, y)[0].backward()
        history.append({n: (p.detach().clone(), p.grad.clone()) for n, p in model.net.named_parameters()})
        model.on_before_optimizer_step(optimizer)
        optimizer.step()
    return history


LR = {
    "sgd": 1e-2,
    "momentum": 1e-2,
    "momentum_ewma": 1e-1,
    "nesterov": 1e-2,
    "adagrad": 1e-2,
    "adam": 1e-3,
    "adamw": 3e-3,
    "rmsprop": 1e-3,
}


@pytest.mark.parametrize("name", LR)
def test_optimizer_configs_have_the_customary_lr(name: str) -> None:
    assert compose_train([f"optimizer={name}"]).optimizer.lr == LR[name]


def first_step(name: str, g: torch.Tensor) -> torch.Tensor:
    """The first update Δθ of each optimizer for gradient g, from its definition."""
    lr = LR[name]
    if name == "sgd":
        return -lr * g
    if name == "momentum":  # v = g on the first step
        return -lr * g
    if name == "momentum_ewma":  # V = β·0 + (1 − β)·g
        return -lr * 0.1 * g
    if name == "nesterov":  # step along g + μ·v with v = g
        return -lr * (g + 0.9 * g)
    if name in ("adam", "adamw"):  # bias-corrected m̂ = g, v̂ = g²
        return -lr * g / (g.abs() + 1e-8)
    if name == "rmsprop":  # E[g²] = (1 − ρ) g², ρ = 0.9
        return -lr * g / ((0.1 * g * g).sqrt() + 1e-7)
    if name == "adagrad":  # Σg² = g²
        return -lr * g / (g.abs() + 1e-10)
    raise AssertionError(name)


@pytest.mark.parametrize("name", LR)
def test_first_step_follows_the_optimizer_definition(name: str) -> None:
    model = classifier(name)
    (before,) = one_step(model)
    for n, p in model.net.named_parameters():
        theta, g = before[n]
        assert torch.allclose(p.detach() - theta, first_step(name, g), rtol=1e-4, atol=1e-7), (name, n)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_fused_adam_is_the_default_and_steps_as_the_per_tensor_loop(name: str) -> None:
    """`fused: true` (one kernel per parameter) changes the speed of Adam's update, not the update."""
    fused, loop = classifier(name), classifier(name)
    loop.hparams.optimizer = {**loop.hparams.optimizer, "fused": False}
    assert fused.configure_optimizers().defaults["fused"] is True
    assert not loop.configure_optimizers().defaults["fused"]
    one_step(fused, steps=5)
    one_step(loop, steps=5)
    for (n, a), b in zip(fused.net.named_parameters(), loop.net.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7), (name, n)


def test_momentum_accumulates_velocity() -> None:
    model = classifier("momentum")
    first, second = one_step(model, steps=2)
    for n, p in model.net.named_parameters():
        velocity = 0.9 * first[n][1] + second[n][1]
        assert torch.allclose(p.detach() - second[n][0], -0.01 * velocity, atol=1e-7)


def test_momentum_ewma_is_the_notes_formula() -> None:
    """V ← βV + (1−β)dW, W ← W − αV with V₀ = 0, computed by hand over three steps (β = 0.9, α = 0.1)."""
    model = classifier("momentum_ewma")
    history = one_step(model, steps=3)
    for n, p in model.net.named_parameters():
        v = torch.zeros_like(p)
        w = history[0][n][0]
        for theta, g in (history[i][n] for i in range(3)):
            assert torch.allclose(theta, w, atol=1e-7)  # the step saw the parameters the hand computation reached
            v = 0.9 * v + (1 - 0.9) * g
            w = w - 0.1 * v
        assert torch.allclose(p.detach(), w, atol=1e-7), n


@pytest.mark.parametrize("name", ["adam", "adamw", "rmsprop", "momentum", "momentum_ewma"])
def test_weight_decay_is_decoupled_for_every_optimizer(name: str) -> None:
    decay = 0.1
    model = classifier(name, weight_decay=decay)
    (before,) = one_step(model)
    for n, p in model.net.named_parameters():
        theta, g = before[n]
        shrink = 1 - LR[name] * decay if p.ndim > 1 else 1.0  # biases are not decayed
        assert torch.allclose(p.detach(), theta * shrink + first_step(name, g), rtol=1e-4, atol=1e-7), n


def test_weight_decay_and_l2_give_different_updates_with_adam() -> None:
    lam = 0.1
    decayed, penalized = classifier("adam", weight_decay=lam), classifier("adam", l2=lam)
    (before_d,) = one_step(decayed)
    (before_p,) = one_step(penalized)
    w_d, w_p = decayed.net.layers[1].weight.detach(), penalized.net.layers[1].weight.detach()
    theta, g = before_d["layers.1.weight"]
    assert torch.equal(theta, before_p["layers.1.weight"][0])
    # L2: the penalty's gradient 2λθ goes through Adam's normalization, so the first step is ±lr wherever it acts.
    g_l2 = before_p["layers.1.weight"][1]
    assert torch.allclose(g_l2, g + 2 * lam * theta, atol=1e-6)
    assert torch.allclose(w_p - theta, -1e-3 * g_l2 / (g_l2.abs() + 1e-8), atol=1e-7)
    # Decoupled: the plain Adam step plus a shrink of lr·λ·θ.
    assert torch.allclose(w_d, theta * (1 - 1e-3 * lam) - 1e-3 * g / (g.abs() + 1e-8), atol=1e-7)
    assert (w_d - w_p).abs().max() > 1e-4


def random_batches(n: int, seed: int) -> TensorBatches:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 1, 3, 3), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 4, (n,), generator=g)
    return TensorBatches(x, y, 10, torch.tensor([1 / 255]), torch.tensor([0.0]))


def fit_lrs(
    tmp_path: Path, scheduler: str, optimizer: str = "sgd", epochs: int = 4, lr: float | None = None, **overrides
) -> list[float]:
    """Fit 5 steps per epoch on random data; return the lr before every step, and check train/lr per epoch."""
    sched = OmegaConf.to_container(compose_train([f"scheduler={scheduler}", f"optimizer={optimizer}"]), resolve=False)
    sched = {**OmegaConf.to_container(OmegaConf.create(sched)["scheduler"], resolve=False), **overrides}
    if "max_lr" in sched:
        sched["max_lr"] = LR[optimizer]
    model = Classifier(NET, [1, 3, 3], 4, optimizer_cfg(optimizer, lr=lr or LR[optimizer]), sched or None, {})
    lrs: list[float] = []

    class Record(L.Callback):
        def on_train_batch_start(self, trainer, *args) -> None:
            lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    logger = L.pytorch.loggers.CSVLogger(tmp_path, name="csv", version="")
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=logger,
        callbacks=[Record()],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, random_batches(50, 0), random_batches(20, 1))
    rows = [r for r in csv.DictReader((tmp_path / "csv" / "metrics.csv").open()) if r.get("train/lr")]
    # The lr each epoch starts with is logged once per epoch.
    assert [float(r["train/lr"]) for r in rows] == pytest.approx(lrs[::5], rel=1e-6, abs=1e-12)
    return lrs


def test_no_scheduler_keeps_lr(tmp_path: Path) -> None:
    assert set(fit_lrs(tmp_path, "none")) == {0.01}


def test_step_scheduler_multiplies_by_gamma_every_step_size_epochs(tmp_path: Path) -> None:
    lrs = fit_lrs(tmp_path, "step")  # step_size 2, gamma 0.1: epochs 0-1 at lr, 2-3 at lr/10
    assert lrs[:10] == [0.01] * 10
    assert lrs[10:] == pytest.approx([0.001] * 10)


def test_cosine_scheduler_follows_the_half_cosine_over_the_run(tmp_path: Path) -> None:
    lrs = fit_lrs(tmp_path, "cosine")  # per step, T_max = 20 steps
    assert lrs == pytest.approx([0.005 * (1 + math.cos(math.pi * t / 20)) for t in range(20)], abs=1e-9)


def test_onecycle_warms_up_to_max_lr_then_anneals(tmp_path: Path) -> None:
    lrs = fit_lrs(tmp_path, "onecycle")  # 20 steps, pct_start 0.3
    assert lrs[0] == pytest.approx(0.01 / 25)
    assert max(lrs) == pytest.approx(0.01, rel=1e-3)
    assert lrs.index(max(lrs)) in (5, 6)
    assert lrs[-1] < 0.01 / 25 / 100


def test_onecycle_holds_its_final_lr_past_the_end_of_the_cycle() -> None:
    # A run resumed with a larger trainer.max_epochs: its checkpoint keeps the cycle's length (10 steps here).
    from trainlab.optimization import OneCycleLR

    net = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    torch_cycle = torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD(net.parameters(), lr=0.1), 0.5, total_steps=10)
    cycle = OneCycleLR(optimizer, max_lr=0.5, total_steps=10)
    lrs, torch_lrs = [], []
    for _ in range(9):
        optimizer.step(), cycle.step(), torch_cycle.optimizer.step(), torch_cycle.step()
        lrs.append(cycle.get_last_lr()[0]), torch_lrs.append(torch_cycle.get_last_lr()[0])
    assert lrs == torch_lrs  # the cycle itself is torch's
    final = lrs[-1]
    for _ in range(15):  # torch's raises "Tried to step 11 times" on the second of these
        optimizer.step(), cycle.step()
        assert cycle.get_last_lr()[0] == final


def test_plateau_cuts_lr_when_val_loss_stalls(tmp_path: Path) -> None:
    # lr 1e-6: val/loss changes by less than the 1e-4 relative threshold, so it counts as a plateau.
    lrs = fit_lrs(tmp_path, "plateau", epochs=5, lr=1e-6, patience=1, factor=0.5)
    # Epoch 0 sets the best val/loss; epochs 1 and 2 do not improve: more than `patience` bad epochs, so the lr
    # is halved for epoch 3; the count restarts and epochs 3 and 4 cut it again (after the last epoch).
    assert [lr / 1e-6 for lr in lrs[::5]] == pytest.approx([1, 1, 1, 0.5, 0.5])


def test_plateau_config_monitors_val_loss_with_keras_defaults() -> None:
    sched = compose_train(["scheduler=plateau"]).scheduler
    assert (sched.monitor, sched.factor, sched.patience, sched.interval) == ("val/loss", 0.1, 10, "epoch")
