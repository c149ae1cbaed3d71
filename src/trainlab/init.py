"""Weight initialization schemes, applied to every Linear and Conv layer of a net."""

from __future__ import annotations

from typing import Any

from torch import nn

INIT_SCHEMES = ("default", "xavier_normal", "he_normal")


def initialize(net: nn.Module, name: str = "default", **options: Any) -> nn.Module:
    """Re-initialize `net` in place. `default` keeps PyTorch's own init; every other scheme zeroes the biases."""
    if name not in INIT_SCHEMES:
        raise ValueError(f"init.name={name!r} is not one of {', '.join(INIT_SCHEMES)}")
    if name == "default":
        return net
    for layer in net.modules():
        if not isinstance(layer, nn.Linear | nn.Conv1d | nn.Conv2d):
            continue
        if name == "xavier_normal":
            nn.init.xavier_normal_(layer.weight, gain=options.get("gain", 1.0))
        elif name == "he_normal":
            nn.init.kaiming_normal_(layer.weight, mode=options.get("mode", "fan_in"), nonlinearity="relu")
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return net
