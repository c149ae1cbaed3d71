"""The hidden block both nets are built from: a Linear or Conv layer, its activation, and optional BatchNorm."""

from __future__ import annotations

from torch import nn

from trainlab.config.choices import BATCHNORM_ORDERS
from trainlab.models.activations import make_activation, width_factor


def check_batchnorm_order(order: str) -> None:
    if order not in BATCHNORM_ORDERS:
        raise ValueError(f"regularization.batchnorm_order={order!r} is not one of {', '.join(BATCHNORM_ORDERS)}")


class BlockSpec:
    """How every hidden block of a net is made: activation (with its parameters) and where BatchNorm goes.

    Its arguments are the block keys every net takes (the nets pass them on as `**block`): `activation`,
    `negative_slope` (leaky ReLU), `elu_alpha`, `maxout_pieces`, `batchnorm`, `batchnorm_order`.
    """

    def __init__(
        self,
        activation: str = "relu",
        batchnorm: bool = False,
        batchnorm_order: str = "before_activation",
        negative_slope: float = 0.01,
        elu_alpha: float = 1.0,
        maxout_pieces: int = 2,
    ) -> None:
        check_batchnorm_order(batchnorm_order)
        self.activation, self.negative_slope, self.elu_alpha = activation, negative_slope, elu_alpha
        self.maxout_pieces = maxout_pieces
        self.pieces = width_factor(activation, maxout_pieces)  # outputs the layer makes per unit (k for maxout)
        self.norm_before = batchnorm and batchnorm_order == "before_activation"
        self.norm_after = batchnorm and not self.norm_before

    def activation_module(self) -> nn.Module:
        return make_activation(self.activation, self.negative_slope, self.elu_alpha, self.maxout_pieces)

    def block(self, layer: nn.Module, units: int, norm: type[nn.Module]) -> list[nn.Module]:
        """layer → (norm) → activation → (norm). `layer` makes `units × pieces` outputs; before maxout, BN sees
        all the pieces, after it one value per unit."""
        layers = [layer]
        if self.norm_before:
            layers.append(norm(units * self.pieces))
        layers.append(self.activation_module())
        if self.norm_after:
            layers.append(norm(units))
        return layers
