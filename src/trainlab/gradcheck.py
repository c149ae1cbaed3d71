"""Gradient checking: backprop's gradients against two-sided finite differences, in float64.

ĝᵢ = (J(θ + εeᵢ) − J(θ − εeᵢ)) / 2ε for a sample of coordinates i of each parameter, compared by the relative
difference ‖g − ĝ‖₂ / (‖g‖₂ + ‖ĝ‖₂). The course's verdicts: < 1e-7 fine, < 1e-5 look again, ≥ 1e-3 probably
a bug (in between: suspicious). Dropout must be off (it redraws its mask on every forward pass).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

FINE, LOOK_AGAIN, BUG = 1e-7, 1e-5, 1e-3


def relative_difference(g: Tensor, g_hat: Tensor) -> float:
    """‖g − ĝ‖₂ / (‖g‖₂ + ‖ĝ‖₂); 0 when both are zero."""
    denominator = (g.norm() + g_hat.norm()).item()
    return (g - g_hat).norm().item() / denominator if denominator > 0 else 0.0


def verdict(rel: float) -> str:
    if rel < FINE:
        return "fine"
    if rel < LOOK_AGAIN:
        return "look again"
    if rel < BUG:
        return "suspicious"
    return "probably a bug"


@dataclass(frozen=True)
class ParamCheck:
    name: str
    numel: int
    checked: int
    rel_diff: float


@dataclass(frozen=True)
class GradCheck:
    params: list[ParamCheck]
    rel_diff: float  # over all checked coordinates together
    worst: float  # the largest per-parameter relative difference
    threshold: float

    @property
    def passed(self) -> bool:
        return self.worst < self.threshold

    @property
    def verdict(self) -> str:
        return verdict(self.worst)


def gradient_check(
    loss_fn: Callable[[], Tensor],
    params: Iterable[tuple[str, Tensor]],
    eps: float = 1e-6,
    coords: int | None = 16,
    threshold: float = LOOK_AGAIN,
    seed: int = 0,
) -> GradCheck:
    """Compare backprop's gradient of `loss_fn()` w.r.t. `params` (named, float64) with two-sided differences.

    `coords`: how many coordinates of each parameter to check (drawn at random; None checks all of them). The
    check passes when every parameter's relative difference is below `threshold`.
    """
    threads = torch.get_num_threads()
    # The check runs thousands of tiny float64 forward passes; on one thread they do not wait on each other.
    torch.set_num_threads(1)
    try:
        return _gradient_check(loss_fn, list(params), eps, coords, threshold, seed)
    finally:
        torch.set_num_threads(threads)


def _gradient_check(
    loss_fn: Callable[[], Tensor],
    params: list[tuple[str, Tensor]],
    eps: float,
    coords: int | None,
    threshold: float,
    seed: int,
) -> GradCheck:
    for name, p in params:
        if p.dtype != torch.float64:
            raise ValueError(f"gradient check needs float64 parameters; {name} is {p.dtype}")
        p.grad = None
    loss_fn().backward()
    generator = torch.Generator().manual_seed(seed)
    results, all_g, all_g_hat = [], [], []
    with torch.no_grad():
        for name, p in params:
            flat = p.view(-1)
            n = flat.numel()
            index = (
                torch.arange(n) if coords is None or coords >= n else torch.randperm(n, generator=generator)[:coords]
            )
            g = (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)[index].clone()
            g_hat = torch.empty_like(g)
            for k, i in enumerate(index.tolist()):
                original = flat[i].item()
                flat[i] = original + eps
                plus = loss_fn().item()
                flat[i] = original - eps
                minus = loss_fn().item()
                flat[i] = original
                g_hat[k] = (plus - minus) / (2 * eps)
            results.append(ParamCheck(name, n, len(index), relative_difference(g, g_hat)))
            all_g.append(g)
            all_g_hat.append(g_hat)
    overall = relative_difference(torch.cat(all_g), torch.cat(all_g_hat))
    rels = [r.rel_diff for r in results]
    worst = max(rels, default=0.0) if all(math.isfinite(r) for r in rels) else math.inf
    return GradCheck(results, overall, worst, threshold)


def without_dropout(net: nn.Module) -> nn.Module:
    """Dropout modules to eval mode (identity); everything else keeps training mode (batch norm: batch stats)."""
    net.train()
    for module in net.modules():
        if isinstance(module, nn.Dropout | nn.Dropout1d | nn.Dropout2d | nn.Dropout3d | nn.AlphaDropout):
            module.eval()
    return net


def report(check: GradCheck) -> str:
    """A per-parameter table and the verdict, as printed by `python src/gradcheck.py`."""
    width = max([len(p.name) for p in check.params] + [9])
    lines = [f"{'parameter':<{width}}  {'checked':>13}  {'rel. diff':>9}  verdict"]
    for p in check.params:
        lines.append(f"{p.name:<{width}}  {p.checked:>5}/{p.numel:<7}  {p.rel_diff:9.2e}  {verdict(p.rel_diff)}")
    status = "PASSED" if check.passed else "FAILED"
    lines.append(f"overall relative difference {check.rel_diff:.2e}; worst parameter {check.worst:.2e}")
    lines.append(f"verdict: {check.verdict} — gradient check {status} (threshold {check.threshold:.0e})")
    return "\n".join(lines)


def check_config(cfg: DictConfig) -> GradCheck:
    """Gradient-check the model the train config composes (model, init, regularization) on a few training samples.

    The loss is the training objective (cross-entropy with its label smoothing, plus the L1/L2 penalty); dropout
    is off and augmentation is not applied, so the loss is a deterministic function of the parameters.
    """
    from hydra.utils import instantiate

    from trainlab.init import init_from_config
    from trainlab.training import build_model, plain

    options = cfg.gradcheck
    torch.manual_seed(options.seed)
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    init_from_config(model.net, plain(cfg.init), datamodule)
    x, y = datamodule.training_inputs(options.samples, shuffle=False, dtype=torch.float64)
    model = model.double()
    without_dropout(model.net)
    return gradient_check(
        lambda: model.objective(x, y).total,
        model.net.named_parameters(),
        eps=options.eps,
        coords=options.coords,
        threshold=options.threshold,
        seed=options.seed,
    )
