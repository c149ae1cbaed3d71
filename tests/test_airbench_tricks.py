"""airbench94's tricks as trainlab switches (experiment=cifar10_94): the whitened, frozen stem; batch norm's
momentum, eps and frozen scale; the 64× step of batch norm's biases (its own param group, one-cycle peak too);
flip + translate test-time augmentation; lookahead. Each is checked for its effect on a small fast_cnn."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from helpers.config import compose_train
from torch import nn

from trainlab.callbacks.lookahead import Lookahead
from trainlab.init import initialize
from trainlab.models import FastCNN
from trainlab.optimization import build_optimizer, build_scheduler

SMALL = {"stem": 24, "widths": [8, 8, 16], "batchnorm": True}


def images(n: int = 64) -> torch.Tensor:
    torch.manual_seed(0)
    mix = torch.tensor([[1.0, 0.8, 0.6], [0.0, 0.6, 0.5], [0.0, 0.0, 0.4]])  # correlated channels, as in photos
    return torch.einsum("dc,nchw->ndhw", mix, torch.randn(n, 3, 32, 32)).cumsum(-1) / 4  # neighbours correlated


def test_whitened_stem_decorrelates_patches_and_is_frozen() -> None:
    net = FastCNN((3, 32, 32), 10, whiten=True, **SMALL)
    x = images()
    net.init_from_data(x, eps=1e-9)  # airbench's eps (5e-4) damps the smallest directions a little
    stem = net.layers[0]
    out = F.conv2d(x, stem.weight)  # the stem's filters without their bias
    first = out[:, :12].permute(0, 2, 3, 1).reshape(-1, 12)
    covariance = first.T @ first / len(first)
    assert torch.allclose(covariance, torch.eye(12), atol=0.02)  # white: unit variance, no correlation
    assert torch.allclose(out[:, 12:], -out[:, :12])  # the other half: the negated filters
    assert not stem.weight.requires_grad and stem.bias.requires_grad
    optimizer = build_optimizer({"_target_": "torch.optim.SGD", "lr": 0.1}, list(net.parameters()), [], 0.0)
    assert all(p is not stem.weight for group in optimizer.param_groups for p in group["params"])


def test_whiten_needs_a_stem_of_twice_the_patch_size() -> None:
    with pytest.raises(ValueError, match=r"model.stem=24"):
        FastCNN((3, 32, 32), 10, whiten=True, stem=16, widths=[8], batchnorm=True)


def test_batch_norm_switches_reach_every_norm_layer() -> None:
    net = FastCNN((3, 32, 32), 10, bn_momentum=0.4, bn_eps=1e-12, bn_weight=False, **SMALL)
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 6
    assert all(m.momentum == 0.4 and m.eps == 1e-12 and not m.weight.requires_grad for m in norms)
    with pytest.raises(ValueError, match="batch norm, which is off"):
        FastCNN((3, 32, 32), 10, stem=24, widths=[8], bn_weight=False)


def test_bias_lr_scale_steps_norm_biases_that_much_more_but_decays_them_no_more() -> None:
    net = FastCNN((3, 32, 32), 10, bias_lr_scale=64.0, **SMALL)
    cfg = {"_target_": "torch.optim.SGD", "lr": 0.5, "momentum": 0.85, "nesterov": True, "weight_decay": 1e-3}
    optimizer = build_optimizer(cfg, list(net.parameters()), [], 0.0)
    [scaled] = [g for g in optimizer.param_groups if g.get("lr_scale") == 64.0]
    norm_biases = {id(m.bias) for m in net.modules() if isinstance(m, nn.BatchNorm2d)}
    assert {id(p) for p in scaled["params"]} == norm_biases
    assert scaled["lr"] == 32.0 and scaled["weight_decay"] == pytest.approx(1e-3 / 64)  # lr·wd per step unchanged
    onecycle = {"_target_": "torch.optim.lr_scheduler.OneCycleLR", "max_lr": 0.5, "total_steps": 10}
    onecycle.update(div_factor=5.0, pct_start=0.5, anneal_strategy="linear", cycle_momentum=False)
    build_scheduler({**onecycle, "interval": "step"}, optimizer, lambda _: 10)
    peaks = {g.get("lr_scale", 1.0): g["max_lr"] for g in optimizer.param_groups}
    assert peaks == {1.0: 0.5, 64.0: 32.0}
    assert scaled["lr"] == pytest.approx(32.0 / 5)  # the schedule starts each group at its own peak / div_factor


def test_translate_tta_averages_the_image_and_its_two_diagonal_shifts() -> None:
    net = FastCNN((3, 32, 32), 10, tta_flip=True, tta_translate=True, **SMALL).eval()
    x = images(4)
    layers = net.layers

    def flipped(v: torch.Tensor) -> torch.Tensor:
        return (layers(v) + layers(v.flip(3))) / 2

    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    expected = flipped(x) / 2 + (flipped(padded[..., :-2, :-2]) + flipped(padded[..., 2:, 2:])) / 4
    with torch.no_grad():
        assert torch.allclose(net(x), expected, atol=1e-5)
        net.train()
        assert torch.allclose(net(x), layers(x), atol=1e-5)  # training sees the image alone


def test_lookahead_pulls_the_weights_to_their_slow_average_and_ends_on_it() -> None:
    module = nn.Linear(3, 2)
    trainer = SimpleNamespace(global_step=0, estimated_stepping_batches=10)
    look = Lookahead(every=5, base=0.9)
    look.on_train_start(trainer, module)
    start = module.weight.detach().clone()
    for step in range(1, 11):
        with torch.no_grad():
            module.weight.add_(1.0)  # a "training step"
        before = module.weight.detach().clone()
        trainer.global_step = step
        look.on_train_batch_end(trainer, module)
        if step == 5:
            decay = 0.9**5 * (5 / 10) ** 3
            expected = decay * start + (1 - decay) * before
            assert torch.allclose(module.weight, expected)  # reset to the slow weights
            slow5 = expected
        elif step < 5:
            assert torch.equal(module.weight, before)  # untouched between pulls
    decay = 0.9**5
    assert torch.allclose(module.weight, decay * slow5 + (1 - decay) * (slow5 + 5))
    state = look.state_dict()["slow"]
    assert torch.equal(state["weight"], module.weight.detach())


def test_orthogonal_init_works_on_channels_last_weights() -> None:
    net = FastCNN((3, 32, 32), 10, channels_last=True, **SMALL)
    initialize(net, "orthogonal")
    conv = net.layers[2][0]
    flat = conv.weight.reshape(conv.weight.shape[0], -1)
    assert torch.allclose(flat @ flat.T, torch.eye(flat.shape[0]), atol=1e-4)


def test_cifar10_94_composes_with_every_trick_on() -> None:
    cfg = compose_train(["experiment=cifar10_94"])
    assert cfg.model.whiten and cfg.model.tta_translate and not cfg.model.bn_weight
    assert cfg.model.bias_lr_scale == 64.0 and cfg.data.val_size == 0 and cfg.trainer.limit_val_batches == 0
    assert cfg.callbacks.lookahead._target_.endswith("Lookahead") and cfg.callbacks.model_checkpoint.monitor is None


def test_init_activation_sweeps_four_inits_by_five_activations_without_batch_norm() -> None:
    cfg = compose_train(["experiment=init_activation"])
    assert not cfg.regularization.batchnorm and cfg.model.negative_slope == 0.333
    assert len(cfg.model.channels) == 15 and cfg.model.pool_every == 5
