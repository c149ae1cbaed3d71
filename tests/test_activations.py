"""Every `model.activation` builds in both nets and computes what its name says."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.models import CNN, MLP
from trainlab.models.activations import ACTIVATION_NAMES, Maxout, make_activation


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_every_activation_builds_and_runs(name: str, net: str) -> None:
    if net == "mlp":
        model = MLP([1, 8, 8], 10, hidden=[12, 6], activation=name)
    else:
        model = CNN([1, 8, 8], 10, channels=[4, 6], dense=12, activation=name)
    assert model(torch.randn(5, 1, 8, 8)).shape == (5, 10)


def test_leaky_relu_slope_is_configurable_and_very_leaky_is_reachable() -> None:
    x = torch.tensor([-3.0, -1.0, 0.0, 2.0])
    assert torch.equal(make_activation("leaky_relu")(x), torch.where(x < 0, 0.01 * x, x))
    assert torch.equal(make_activation("leaky_relu", negative_slope=0.333)(x), torch.where(x < 0, 0.333 * x, x))
    slopes = [m.negative_slope for m in MLP([1, 4, 4], 3, [5], "leaky_relu", negative_slope=0.333).modules()
              if isinstance(m, nn.LeakyReLU)]  # fmt: skip
    assert slopes == [0.333]


def test_elu_alpha() -> None:
    x = torch.tensor([-2.0, 0.5])
    out = make_activation("elu", alpha=0.5)(x)
    assert torch.allclose(out, torch.tensor([0.5 * (torch.exp(torch.tensor(-2.0)) - 1), 0.5]))


@pytest.mark.parametrize("pieces", [2, 3])
def test_maxout_takes_the_max_of_k_pieces_per_unit(pieces: int) -> None:
    x = torch.randn(7, 5 * pieces, 3, 3)
    out = Maxout(pieces)(x)
    expected = torch.stack([x[:, u * pieces : (u + 1) * pieces].max(dim=1).values for u in range(5)], dim=1)
    assert torch.equal(out, expected)


def test_maxout_layers_make_k_times_the_outputs() -> None:
    mlp = MLP([1, 4, 4], 10, hidden=[6, 5], activation="maxout", maxout_pieces=3)
    linears = [m for m in mlp.modules() if isinstance(m, nn.Linear)]
    assert [lin.out_features for lin in linears] == [18, 15, 10]
    assert [lin.in_features for lin in linears] == [16, 6, 5]
    cnn = CNN([1, 8, 8], 10, channels=[4, 6], dense=12, activation="maxout", maxout_pieces=2)
    convs = [m for m in cnn.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 8), (4, 12)]


def test_unknown_activation_is_refused() -> None:
    with pytest.raises(ValueError, match="swish"):
        MLP([1, 4, 4], 10, activation="swish")
