"""The gradient check agrees with backprop for every activation and catches a deliberately wrong backward."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from trainlab.classifier import Classifier
from trainlab.gradcheck import gradient_check, relative_difference, verdict, without_dropout
from trainlab.models.activations import ACTIVATION_NAMES


def test_relative_difference_and_verdicts() -> None:
    g, g_hat = torch.tensor([3.0, 4.0], dtype=torch.float64), torch.tensor([3.0, 4.0 + 1e-4], dtype=torch.float64)
    assert relative_difference(g, g_hat) == pytest.approx(1e-4 / (5 + torch.tensor([3.0, 4.0001]).norm().item()))
    assert relative_difference(torch.zeros(3), torch.zeros(3)) == 0.0
    assert [verdict(r) for r in (1e-8, 1e-6, 1e-4, 1e-3, 1.0)] == [
        "fine",
        "look again",
        "suspicious",
        "probably a bug",
        "probably a bug",
    ]


def tiny_classifier(net: dict, **regularization) -> Classifier:
    torch.manual_seed(0)
    optimizer = {"_target_": "torch.optim.SGD", "lr": 0.1}
    model = Classifier(net, [1, 6, 6], 3, optimizer, None, regularization).double()
    without_dropout(model.net)
    return model


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_gradient_check_passes_for_every_activation(activation: str, arch: str) -> None:
    if arch == "mlp":
        net = {"_target_": "trainlab.models.MLP", "hidden": [7, 5], "activation": activation, "dropout": 0.5}
    else:
        net = {"_target_": "trainlab.models.CNN", "channels": [2, 3], "dense": 6, "activation": activation}
    model = tiny_classifier(net, l2=0.01, l1=0.001)
    x, y = torch.randn(4, 1, 6, 6, dtype=torch.float64), torch.tensor([0, 1, 2, 1])
    check = gradient_check(lambda: model.objective(x, y)[0], model.net.named_parameters(), coords=None)
    assert check.passed, check
    assert check.worst < 1e-5


class WrongReLU(torch.autograd.Function):
    """ReLU whose backward forgets the mask: the kind of bug gradient checking exists for."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return grad


class WrongNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = nn.Linear(36, 8), nn.Linear(8, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.second(WrongReLU.apply(self.first(x.flatten(1))))


def test_gradient_check_fails_on_a_wrong_backward() -> None:
    torch.manual_seed(0)
    net = WrongNet().double()
    x, y = torch.randn(4, 1, 6, 6, dtype=torch.float64), torch.tensor([0, 1, 2, 1])
    check = gradient_check(lambda: nn.functional.cross_entropy(net(x), y), net.named_parameters(), coords=None)
    assert not check.passed
    assert check.verdict == "probably a bug"
    by_name = {p.name: p.rel_diff for p in check.params}
    assert by_name["second.weight"] < 1e-7  # the layer above the bug is still right
    assert by_name["first.weight"] >= 1e-3


def test_gradient_check_needs_float64() -> None:
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="float64"):
        gradient_check(lambda: net(torch.ones(1, 2)).sum(), net.named_parameters())


@pytest.mark.slow
def test_entry_point_passes_for_the_default_model_and_exits_nonzero_on_failure(run_entry) -> None:
    ok = run_entry("gradcheck")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "gradient check PASSED" in ok.stdout and "layers.1.weight" in ok.stdout
    # ε = 1 is far too coarse for a sigmoid net: the differences are wrong, and the check must say so.
    bad = run_entry("gradcheck", "model.activation=sigmoid", "model.hidden=[16]", "gradcheck.eps=1.0")
    assert bad.returncode == 1
    assert "FAILED" in bad.stdout
