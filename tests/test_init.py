"""Each init scheme draws weights with the std its formula gives; LSUV brings every layer's output variance to 1."""

from __future__ import annotations

import math

import pytest
import torch
from helpers.config import compose_train
from torch import nn

from trainlab.init import initialize, lsuv_, weighted_layers
from trainlab.models import CNN, MLP

FAN_IN, FAN_OUT = 800, 400  # 320k weights: the sample std is within ~0.2% of σ


def std_tolerance(sigma: float, n: int, kurtosis: float) -> float:
    """6 standard errors of a sample std: sd(s) ≈ σ · √((κ − 1) / 4n) (κ = 3 normal, 1.8 uniform)."""
    return 6 * sigma * math.sqrt((kurtosis - 1) / (4 * n))


CASES = {
    # name: (options, expected std, kurtosis)
    "normal": ({"std": 0.05}, 0.05, 3.0),
    "uniform": ({"bound": 1.0}, 1 / math.sqrt(3), 1.8),
    "xavier_normal": ({}, math.sqrt(2 / (FAN_IN + FAN_OUT)), 3.0),
    "xavier_normal/gain_2": ({"gain": 2.0}, 2 * math.sqrt(2 / (FAN_IN + FAN_OUT)), 3.0),
    "xavier_uniform": ({}, math.sqrt(6 / (FAN_IN + FAN_OUT)) / math.sqrt(3), 1.8),
    "he_normal": ({}, math.sqrt(2 / FAN_IN), 3.0),
    "he_normal/fan_out": ({"mode": "fan_out"}, math.sqrt(2 / FAN_OUT), 3.0),
    "he_uniform": ({}, math.sqrt(6 / FAN_IN) / math.sqrt(3), 1.8),
    "he_normal/tanh": ({"nonlinearity": "tanh"}, 5 / 3 / math.sqrt(FAN_IN), 3.0),
    "he_normal/very_leaky": (
        {"nonlinearity": "leaky_relu", "negative_slope": 0.333},
        math.sqrt(2 / (1 + 0.333**2) / FAN_IN),
        3.0,
    ),
    "orthogonal": ({}, 1 / math.sqrt(FAN_IN), None),  # rows orthonormal: each has norm 1
}


@pytest.mark.parametrize("case", CASES)
def test_weight_std_matches_the_formula_and_biases_are_zero(case: str) -> None:
    torch.manual_seed(0)
    options, sigma, kurtosis = CASES[case]
    layer = nn.Linear(FAN_IN, FAN_OUT)
    initialize(layer, case.split("/")[0], **options)
    w = layer.weight.detach().double()
    assert torch.count_nonzero(layer.bias) == 0
    if kurtosis is None:  # orthogonal: W Wᵀ = I exactly (up to float32 rounding)
        assert torch.allclose(w @ w.T, torch.eye(FAN_OUT, dtype=torch.float64), atol=1e-5)
        return
    assert abs(w.std().item() - sigma) < std_tolerance(sigma, w.numel(), kurtosis)
    assert abs(w.mean().item()) < 6 * sigma / math.sqrt(w.numel())
    if kurtosis == 1.8:  # uniform schemes never leave ±√3σ
        assert w.abs().max().item() <= math.sqrt(3) * sigma + 1e-6


def test_conv_fans_include_the_kernel_area() -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(64, 128, kernel_size=3)
    initialize(conv, "he_normal")
    sigma = math.sqrt(2 / (64 * 9))
    assert abs(conv.weight.std().item() - sigma) < std_tolerance(sigma, conv.weight.numel(), 3.0)
    assert torch.count_nonzero(conv.bias) == 0


def test_zeros_and_default() -> None:
    net = MLP([1, 4, 4], 3, [5])
    before = {k: v.clone() for k, v in net.state_dict().items()}
    initialize(net, "default")
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    initialize(net, "zeros")
    assert all(torch.count_nonzero(p) == 0 for p in net.parameters())


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="glorot"):
        initialize(nn.Linear(2, 2), "glorot")


@pytest.mark.parametrize(
    "net",
    [
        MLP([1, 8, 8], 10, hidden=[64, 32, 32], activation="tanh"),
        MLP([1, 8, 8], 10, hidden=[64, 32], activation="maxout"),
        CNN([1, 12, 12], 10, channels=[8, 16], dense=32, activation="relu"),
    ],
    ids=["mlp-tanh", "mlp-maxout", "cnn-relu"],
)
def test_lsuv_brings_every_layer_output_variance_within_tol_of_one(net: nn.Module) -> None:
    torch.manual_seed(0)
    in_shape = (1, 12, 12) if isinstance(net, CNN) else (1, 8, 8)
    batch = torch.rand(256, *in_shape) * 3 + 1  # far from unit variance on purpose
    tol = 0.1
    initialize(net, "lsuv", batch=batch, tol=tol, max_iter=10)
    outputs = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: outputs.append(out.var().item())) for m in weighted_layers(net)
    ]
    net.eval()
    with torch.no_grad():
        net(batch)
    for hook in hooks:
        hook.remove()
    assert len(outputs) == len(weighted_layers(net))
    assert all(abs(v - 1) < tol for v in outputs), outputs
    assert all(torch.count_nonzero(m.bias) == 0 for m in weighted_layers(net) if m.bias is not None)


def test_lsuv_starts_from_orthonormal_weights() -> None:
    net = MLP([1, 4, 4], 3, [8])
    initialize(net, "lsuv", batch=torch.randn(64, 1, 4, 4), max_iter=0)  # no rescaling: the orthonormal start
    w = net.layers[1].weight.detach()
    assert torch.allclose(w @ w.T, torch.eye(8), atol=1e-5)
    variances = lsuv_(net, torch.randn(64, 1, 4, 4), max_iter=0)  # each layer's output variance, unscaled
    assert len(variances) == len(weighted_layers(net)) == 2 and all(v > 0 for v in variances)


def test_init_configs_compose_with_their_aliases() -> None:
    assert compose_train(["init=xavier"]).init == compose_train(["init=xavier_normal"]).init
    assert compose_train(["init=kaiming"]).init.name == "he_normal"
    he = compose_train(["init=he", "model.activation=leaky_relu", "model.negative_slope=0.333"]).init
    assert (he.name, he.nonlinearity, he.negative_slope) == ("he_normal", "leaky_relu", 0.333)
    lsuv = compose_train(["init=lsuv"]).init
    assert (lsuv.tol, lsuv.max_iter) == (0.1, 10)
