"""A fully connected network: the course's workhorse for studying capacity and regularization."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from trainlab.models.activations import make_activation, width_factor

BATCHNORM_ORDERS = ("before_activation", "after_activation")


def check_batchnorm_order(order: str) -> None:
    if order not in BATCHNORM_ORDERS:
        raise ValueError(f"regularization.batchnorm_order={order!r} is not one of {', '.join(BATCHNORM_ORDERS)}")


class MLP(nn.Module):
    """Flatten → [Linear → (BatchNorm) → activation → (Dropout)] per hidden size → Linear to the classes.

    Dropout comes after the activation, as the notes recommend. `batchnorm_order="after_activation"` moves
    BatchNorm behind the activation (Linear → activation → BN → Dropout). With maxout each Linear makes
    `maxout_pieces`× the units and the activation takes their max.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        hidden: Sequence[int] = (256, 256),
        activation: str = "relu",
        dropout: float = 0.0,
        batchnorm: bool = False,
        batchnorm_order: str = "before_activation",
        negative_slope: float = 0.01,
        elu_alpha: float = 1.0,
        maxout_pieces: int = 2,
    ) -> None:
        super().__init__()
        if any(h < 1 for h in hidden):
            raise ValueError(f"model.hidden={list(hidden)} must hold positive sizes")
        check_batchnorm_order(batchnorm_order)
        self.activation = activation
        self.negative_slope = negative_slope
        pieces = width_factor(activation, maxout_pieces)
        bn_first = batchnorm and batchnorm_order == "before_activation"
        layers: list[nn.Module] = [nn.Flatten()]
        width = 1
        for size in in_shape:
            width *= size
        for size in hidden:
            layers.append(nn.Linear(width, size * pieces, bias=not bn_first))
            if bn_first:
                layers.append(nn.BatchNorm1d(size * pieces))
            layers.append(make_activation(activation, negative_slope, elu_alpha, maxout_pieces))
            if batchnorm and not bn_first:
                layers.append(nn.BatchNorm1d(size))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
