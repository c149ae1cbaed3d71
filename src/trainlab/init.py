"""Weight initialization schemes, applied to every Linear and Conv layer of a net; biases start at zero.

Every scheme except `default` (PyTorch's own init) zeroes the biases. `lsuv` also needs a batch of inputs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from trainlab.config.choices import INIT_SCHEMES
from trainlab.models.activations import activation_gain

if TYPE_CHECKING:
    from trainlab.data.in_memory import InMemoryDataModule

log = logging.getLogger(__name__)

LAYER_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def weighted_layers(net: nn.Module) -> list[nn.Module]:
    """The Linear and Conv layers of `net`, in registration order (the forward order of our Sequential nets)."""
    return [m for m in net.modules() if isinstance(m, LAYER_TYPES)]


def fans(weight: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out): inputs and outputs per unit, kernel area included for convs.

    `nn.init._calculate_fan_in_and_fan_out` (private; tested with torch 2.13.0): the very fans PyTorch's own
    kaiming_*/xavier_* inits use, so the two never disagree.
    """
    return nn.init._calculate_fan_in_and_fan_out(weight)


def he_std(weight: Tensor, mode: str = "fan_in", nonlinearity: str = "relu", negative_slope: float = 0.01) -> float:
    """He et al. 2015: std = gain / √fan, gain matched to the activation (√2 for ReLU)."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init.mode={mode!r} is not fan_in or fan_out")
    fan_in, fan_out = fans(weight)
    return activation_gain(nonlinearity, negative_slope) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def xavier_std(weight: Tensor, gain: float = 1.0) -> float:
    """Glorot & Bengio 2010: std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(weight)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


@torch.no_grad()
def init_weight(weight: Tensor, name: str, options: dict[str, Any]) -> None:
    """Fill one weight tensor in place by the scheme `name` (uniform bounds are √3 × the std)."""
    if name == "zeros":
        weight.zero_()
    elif name == "normal":
        weight.normal_(0.0, options.get("std", 0.01))
    elif name == "uniform":
        bound = options.get("bound", 1.0)
        weight.uniform_(-bound, bound)
    elif name in ("xavier_normal", "xavier_uniform", "he_normal", "he_uniform"):
        if name.startswith("xavier"):
            std = xavier_std(weight, options.get("gain", 1.0))
        else:
            mode, nonlinearity = options.get("mode", "fan_in"), options.get("nonlinearity", "relu")
            std = he_std(weight, mode, nonlinearity, options.get("negative_slope", 0.01))
        if name.endswith("normal"):
            weight.normal_(0.0, std)
        else:
            weight.uniform_(-math.sqrt(3) * std, math.sqrt(3) * std)
    elif name in ("orthogonal", "lsuv"):
        # Via a contiguous copy: torch's orthogonal_ views the tensor flat, which NHWC (channels_last) weights refuse.
        weight.copy_(nn.init.orthogonal_(torch.empty(weight.shape, dtype=weight.dtype), gain=options.get("gain", 1.0)))


def initialize(net: nn.Module, name: str = "default", batch: Tensor | None = None, **options: Any) -> nn.Module:
    """Re-initialize `net` in place by the scheme `name`; `lsuv` rescales layer by layer on `batch`.

    Options per scheme: normal `std`; uniform `bound` (±bound); xavier_* and orthogonal `gain`; he_* `mode`
    (fan_in|fan_out), `nonlinearity` and `negative_slope` (the gain's activation); lsuv `tol`, `max_iter`.
    """
    if name not in INIT_SCHEMES:  # aliases (init=he) are resolved when the config is composed
        raise ValueError(f"init.name={name!r} is not one of {', '.join(INIT_SCHEMES)}")
    if name == "default":
        return net
    for layer in weighted_layers(net):
        init_weight(layer.weight, name, options)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    if name == "lsuv":
        if batch is None:
            raise ValueError("init=lsuv needs a batch of inputs to scale the layers on")
        lsuv_(net, batch, tol=options.get("tol", 0.1), max_iter=options.get("max_iter", 10))
    return net


def init_from_config(net: nn.Module, init_cfg: Mapping[str, Any], datamodule: InMemoryDataModule) -> nn.Module:
    """Initialize `net` as the `init` config group says: the one path train and gradcheck share.

    `lsuv` measures its variances on `init.batch_size` random training inputs, drawn once before training.
    """
    options = dict(init_cfg)
    batch_size = options.pop("batch_size", 512)
    if options.get("name") == "lsuv":
        options["batch"] = datamodule.training_inputs(batch_size)[0]
    initialize(net, **options)
    if getattr(net, "whiten", False):  # fast_cnn's model.whiten: its stem is set from training images' patches
        net.init_from_data(datamodule.training_inputs(5000)[0])
    return net


@torch.no_grad()
def lsuv_(net: nn.Module, batch: Tensor, tol: float = 0.1, max_iter: int = 10) -> list[float]:
    """Mishkin & Matas 2016, layer-sequential unit variance: starting from orthonormal weights, scale each layer's
    weights, first layer first, until its output variance on `batch` is within `tol` of 1 (at most `max_iter`
    forward passes per layer). Returns each layer's final output variance."""
    was_training = net.training
    net.eval()  # dropout off, batch norm on its (fresh) running statistics: the net as it will first see data
    variances = []
    seen: dict[str, Tensor] = {}

    def keep_output(_module: nn.Module, _inputs: Any, output: Tensor) -> None:
        seen["out"] = output

    for index, layer in enumerate(weighted_layers(net)):
        hook = layer.register_forward_hook(keep_output)
        try:
            for _ in range(max_iter):
                net(batch)
                var = seen["out"].var().item()
                if abs(var - 1.0) < tol or var == 0.0:
                    break
                layer.weight.div_(math.sqrt(var))
            net(batch)
            var = seen["out"].var().item()
        finally:
            hook.remove()
        variances.append(var)
        log.info("lsuv: layer %d (%s) output variance %.4f", index, type(layer).__name__, var)
    net.train(was_training)
    return variances
