"""The private Hydra and OmegaConf APIs trainlab uses, each wrapped once, with the version it was tested on.

If an upgrade breaks one of them, this is the only place to change. Torch-free: the config layer (`trainlab.config`)
imports it before torch loads. Private torch and Lightning uses sit beside their only user, marked the same way:
`trainlab.init.fans` (torch), `trainlab.optimization.apply_decoupled_decay` (torch),
`trainlab.loggers.csv_logger.AppendingWriter` and `trainlab.loggers.wandb_logger` (Lightning).
"""

from __future__ import annotations

import argparse
from typing import Any

from omegaconf import DictConfig


def hydra_argument_parser() -> argparse.ArgumentParser:
    """Hydra's own command-line parser, so the pre-check reads argv exactly as `@hydra.main` will.

    `hydra._internal.utils.get_args_parser`: private; tested with hydra-core 1.3.8.
    """
    from hydra._internal.utils import get_args_parser

    return get_args_parser()


def child_node(node: DictConfig, key: str) -> Any:
    """The child `key` of `node` as a config node, its interpolations left unresolved.

    `DictConfig._get_node`: private; tested with omegaconf 2.3.1 (`node[key]` would resolve `${…}`, which may fail).
    """
    return node._get_node(key)


def written_value(node: DictConfig, key: str) -> Any:
    """`node[key]` as written in the config: `${other.key}` stays that string.

    `Node._value`: private; tested with omegaconf 2.3.1.
    """
    return child_node(node, key)._value()
