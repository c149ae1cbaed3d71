"""`hydra.sweeper.params` (and sweep overrides on the command line) → Optuna distributions and fixed overrides.

The syntax is Hydra's, as hydra-optuna-sweeper reads it:

| value | distribution |
|---|---|
| `interval(0.1, 0.5)` | `FloatDistribution(0.1, 0.5)` (both ends integers: `IntDistribution`) |
| `int(interval(8, 64))` | `IntDistribution(8, 64)` |
| `tag(log, interval(1e-4, 1e-1))` | the same on a log scale |
| `choice(32, 64, 128)` | `CategoricalDistribution` (lists and other values as their override text) |
| `range(1, 5)` | `IntDistribution(1, 4)`: Hydra's range leaves out its end (`range(0, 1, 0.25)`: floats with a step) |
| anything else | a fixed override given to every job as written |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, Override, RangeSweep, Transformer
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from trainlab.config.errors import UserError


@dataclass
class SearchSpace:
    """The swept parameters (override key → distribution) and the overrides every job gets as they are."""

    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)

    def overrides(self, params: dict[str, Any]) -> list[str]:
        """A job's overrides: one `key=value` per sampled parameter, then the fixed ones."""
        return [f"{key}={value}" for key, value in params.items()] + self.fixed


def parse_space(params: dict[str, str] | None, arguments: list[str]) -> SearchSpace:
    """The search space of `hydra.sweeper.params` and the command line's overrides (which win on the same key)."""
    lines = [f"{key}={value}" for key, value in (params or {}).items()] + list(arguments)
    parsed: dict[str, Override] = {}
    for line in lines:
        try:
            [override] = OverridesParser.create().parse_overrides([line])
        except Exception as err:
            raise UserError(f"hydra.sweeper.params: cannot parse {line!r}: {str(err).splitlines()[0]}") from err
        parsed[override.get_key_element()] = override  # a later one replaces an earlier one for the same key
    space = SearchSpace()
    for key, override in parsed.items():
        if override.is_sweep_override():
            space.distributions[key] = distribution(key, override)
        else:
            space.fixed.append(override.input_line)
    return space


def distribution(key: str, override: Override) -> BaseDistribution:
    """The Optuna distribution of one sweep override."""
    value = override.value()
    if override.is_choice_sweep():
        return CategoricalDistribution(list(override.sweep_iterator(transformer=Transformer.encode)))
    if override.is_range_sweep():
        assert isinstance(value, RangeSweep)
        if value.shuffle:
            return CategoricalDistribution(list(override.sweep_iterator(transformer=Transformer.encode)))
        values = list(override.sweep_iterator())
        if not values:
            raise UserError(f"{key}={override.get_value_element_as_str()}: the range is empty")
        step = value.step if value.step is not None else 1
        if all(isinstance(v, int) for v in values) and isinstance(step, int):
            return IntDistribution(values[0], values[-1], step=step) if step > 0 else CategoricalDistribution(values)
        return CategoricalDistribution(values)  # float steps: exactly the values Hydra's range gives
    if override.is_interval_sweep():
        assert isinstance(value, IntervalSweep)
        log = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return IntDistribution(value.start, value.end, log=log)
        return FloatDistribution(float(value.start), float(value.end), log=log)
    raise UserError(f"{key}={override.get_value_element_as_str()}: not a sweep Optuna can sample (glob?)")


def grid_choices(space: SearchSpace) -> dict[str, list[Any]]:
    """The values of each parameter for `optuna.samplers.GridSampler`: choices, and the values of a range."""
    grid = {}
    for key, dist in space.distributions.items():
        if isinstance(dist, CategoricalDistribution):
            grid[key] = list(dist.choices)
        elif isinstance(dist, IntDistribution) and not dist.log:
            grid[key] = list(range(dist.low, dist.high + 1, dist.step))
        else:
            raise UserError(
                f"hydra.sweeper.params.{key}: GridSampler needs a finite set of values; use choice(…) or range(…)"
            )
    return grid
