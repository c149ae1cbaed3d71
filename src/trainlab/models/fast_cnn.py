"""An airbench-style net (Keller Jordan's airbench94): a small stem and three wide conv groups with batch norm.

airbench's net tricks are switches here (conf/model/fast_cnn.yaml), off by default:
- `whiten`: the 2×2 stem conv is set, before training, to whiten the patches of training images (the eigenvectors
  of their covariance, scaled by 1/√eigenvalue, and their negatives) and frozen; only its bias trains.
- `bn_momentum`, `bn_eps`, `bn_weight`: batch norm's running-statistics momentum (PyTorch's convention: airbench's
  "0.6" is 0.4 here), epsilon, and whether its scale trains (airbench freezes it at 1).
- `bias_lr_scale`: batch norm's biases take steps this many times larger (airbench: 64), not larger decay: the
  optimizer builds a parameter group for them (trainlab/optimization.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from trainlab.models.blocks import BlockSpec
from trainlab.models.image_net import ImageNet, Scale


class FastCNN(ImageNet):
    """stem conv 2×2 (`stem` channels) → activation → per width w of `widths`: [conv 3×3 → max pool 2 → (BN) →
    activation → conv 3×3 → (BN) → activation] → global max pool → Linear (no bias) → ×1/9.

    airbench94's widths are stem 24 and (64, 256, 256) with GELU. Its other tricks are not here: the stem is
    trained like every other layer (airbench initializes it to whiten patches and freezes it), and batch norm is
    PyTorch's with its default momentum.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        stem: int = 24,
        widths: Sequence[int] = (64, 256, 256),
        activation: str = "gelu",
        channels_last: bool = False,
        compile: bool = False,
        tta_flip: bool = False,
        tta_translate: bool = False,
        whiten: bool = False,
        bn_momentum: float = 0.1,
        bn_eps: float = 1e-5,
        bn_weight: bool = True,
        bias_lr_scale: float = 1.0,
        **block: Any,
    ) -> None:
        super().__init__()
        if stem < 1 or not widths or any(w < 1 for w in widths):
            raise ValueError(f"model.stem={stem} and model.widths={list(widths)} must be positive")
        spec = BlockSpec(activation, **block)
        patch_size = in_shape[0] * 2 * 2
        if whiten and stem * spec.pieces != 2 * patch_size:
            raise ValueError(
                f"model.whiten=true sets the stem's {stem * spec.pieces} filters to the ± eigenvectors of "
                f"{in_shape[0]}×2×2 patches: set model.stem={2 * patch_size // spec.pieces} (or model.whiten=false)"
            )
        tuned = bn_momentum != 0.1 or bn_eps != 1e-5 or not bn_weight or bias_lr_scale != 1.0
        if tuned and not (spec.norm_before or spec.norm_after):
            raise ValueError(
                "model.bn_momentum/bn_eps/bn_weight/bias_lr_scale tune batch norm, which is off here: "
                "use regularization=batchnorm or leave them at their defaults"
            )
        self.whiten = whiten

        def norm(channels: int) -> nn.BatchNorm2d:
            layer = nn.BatchNorm2d(channels, eps=bn_eps, momentum=bn_momentum)
            layer.weight.requires_grad_(bn_weight)
            layer.bias.lr_scale = bias_lr_scale  # read by build_optimizer: a param group of its own
            return layer

        layers: list[nn.Module] = [nn.Conv2d(in_shape[0], stem * spec.pieces, 2), spec.activation_module()]
        c_in = stem
        for width in widths:
            first = nn.Conv2d(c_in, width * spec.pieces, 3, padding=1, bias=not spec.norm_before)
            layers += spec.block(nn.Sequential(first, nn.MaxPool2d(2)), width, norm)
            second = nn.Conv2d(width, width * spec.pieces, 3, padding=1, bias=not spec.norm_before)
            layers += spec.block(second, width, norm)
            c_in = width
        layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes, bias=False), Scale(1 / 9)]
        self.layers = nn.Sequential(*layers)
        self.set_switches(channels_last, compile, tta_flip, tta_translate)
        if whiten:
            self.layers[0].weight.requires_grad_(False)

    @torch.no_grad()
    def init_from_data(self, images: Tensor, eps: float = 5e-4) -> None:
        """`whiten`: the stem's filters become the ± eigenvectors of the covariance of the 2×2 patches of `images`
        (scaled training images), each divided by √(eigenvalue + eps), so the stem's outputs are decorrelated with
        unit variance (airbench's `init_whitening_conv`)."""
        if not self.whiten:
            return
        stem = self.layers[0]
        c, (h, w) = images.shape[1], stem.weight.shape[2:]
        patches = images.float().unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c * h * w)
        eigenvalues, eigenvectors = torch.linalg.eigh(patches.T @ patches / len(patches))
        filters = (eigenvectors.T / torch.sqrt(eigenvalues + eps)[:, None]).reshape(-1, c, h, w).flip(0)
        stem.weight.copy_(torch.cat((filters, -filters)).to(stem.weight.dtype))
