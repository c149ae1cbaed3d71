"""Activation functions by the names the configs use, with their parameters and their init gains."""

from __future__ import annotations

import math

from torch import Tensor, nn

from trainlab.config.choices import ACTIVATIONS as ACTIVATION_NAMES


class Maxout(nn.Module):
    """Goodfellow et al. 2013: the layer before produces `pieces`× the units; each unit is the max of its pieces.

    Units are laid out along dim 1 (features of a Linear, channels of a Conv), pieces of one unit side by side.
    """

    def __init__(self, pieces: int = 2) -> None:
        super().__init__()
        if pieces < 2:
            raise ValueError(f"maxout needs at least 2 pieces, got {pieces}")
        self.pieces = pieces

    def forward(self, x: Tensor) -> Tensor:
        n, width = x.shape[:2]
        return x.reshape(n, width // self.pieces, self.pieces, *x.shape[2:]).amax(dim=2)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


def make_activation(name: str, negative_slope: float = 0.01, alpha: float = 1.0, pieces: int = 2) -> nn.Module:
    """The activation module; `negative_slope` is leaky_relu's (0.333: the "very leaky" ReLU), `alpha` is ELU's."""
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "elu":
        return nn.ELU(alpha)
    if name == "maxout":
        return Maxout(pieces)
    if name == "gelu":
        return nn.GELU()
    if name == "silu":
        return nn.SiLU()
    raise ValueError(f"model.activation={name!r} is not one of {', '.join(ACTIVATION_NAMES)}")


def width_factor(name: str, pieces: int = 2) -> int:
    """How many outputs the layer before the activation makes per unit: `pieces` for maxout, else 1."""
    return pieces if name == "maxout" else 1


def activation_gain(name: str, negative_slope: float = 0.01) -> float:
    """The gain He init uses so a layer keeps its input's variance: √2 for ReLU, √(2/(1+a²)) for leaky ReLU.

    ELU, GELU and SiLU behave like ReLU for large inputs and take √2; tanh takes 5/3 and sigmoid 1 (PyTorch's
    `calculate_gain`); maxout passes the largest of its pieces through unhalved and takes 1.
    """
    if name in ("relu", "elu", "gelu", "silu"):
        return math.sqrt(2.0)
    if name == "leaky_relu":
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if name == "tanh":
        return 5.0 / 3
    if name in ("sigmoid", "maxout", "linear"):
        return 1.0
    raise ValueError(f"no init gain for activation {name!r}")
