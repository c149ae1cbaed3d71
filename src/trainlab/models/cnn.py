"""The course's Keras MNIST convnet, with its widths and dropouts as arguments."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from trainlab.models.activations import make_activation


class CNN(nn.Module):
    """Conv(c1, 3×3) → Conv(c2, 3×3) → MaxPool 2 → Dropout → Flatten → Dense → Dropout → Dense(classes)."""

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int] = (32, 64),
        dense: int = 128,
        activation: str = "relu",
        conv_dropout: float = 0.25,
        dense_dropout: float = 0.5,
        batchnorm: bool = False,
    ) -> None:
        super().__init__()
        in_channels, height, width = in_shape
        layers: list[nn.Module] = []
        for out_channels in channels:
            layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(make_activation(activation))
            in_channels, height, width = out_channels, height - 2, width - 2
        layers += [nn.MaxPool2d(2), nn.Dropout(conv_dropout), nn.Flatten()]
        flat = in_channels * (height // 2) * (width // 2)
        layers += [nn.Linear(flat, dense), make_activation(activation), nn.Dropout(dense_dropout)]
        layers.append(nn.Linear(dense, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
