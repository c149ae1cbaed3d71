"""Composing the entry points' configs in-process, with every path a run could write to outside the repo."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

from helpers.paths import CONF, REPO, data_dir

# Groups whose options are swapped on the command line (`group=option`), with their folder under conf/.
GROUPS = [
    "data",
    "model",
    "init",
    "optimizer",
    "scheduler",
    "regularization",
    "trainer",
    "trainer/accelerator",
    "callbacks",
    "diagnostics",
    "logger",
    "debug",
    "experiment",
    "hparams_search",
]

# Fast settings for end-to-end runs: a slice of each split, one epoch, no config printout.
QUICK = [
    "trainer.max_epochs=1",
    "++trainer.limit_train_batches=20",
    "++trainer.limit_val_batches=2",
    "++trainer.limit_test_batches=2",
    "print_config=false",
]

# Where a config composed only to be read points its run and cache dirs: outside the repo, never created.
UNUSED = Path(tempfile.gettempdir()) / "trainlab-tests-unused"


def options(group: str) -> list[str]:
    """The option names of a config group: its YAML files, and for `init` the aliases registered in code."""
    from trainlab.config.choices import INIT_ALIASES

    names = {p.stem for p in (CONF / group).glob("*.yaml")}
    return sorted(names | set(INIT_ALIASES) if group == "init" else names)


def compose_config(
    name: str,
    overrides: list[str] | None = None,
    output_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> DictConfig:
    """The composed config `name` (train, eval, gradcheck) with its paths made concrete (no Hydra run needed):
    the run writes to `output_dir`, decoded data goes to `cache_dir`, both outside the repo."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(name, overrides=overrides or [], return_hydra_config=True)
    output_dir = output_dir or UNUSED / "run"
    paths = {
        "root_dir": REPO,
        "data_dir": data_dir(),
        "output_dir": output_dir,
        "log_dir": output_dir.parent / "logs",
        "cache_dir": cache_dir or UNUSED / "cache",
    }
    given = {o.split("=", 1)[0].lstrip("+") for o in overrides or []}
    with open_dict(cfg):
        for key, path in paths.items():
            if f"paths.{key}" not in given:  # a path the test sets itself wins
                cfg.paths[key] = str(path)
        del cfg.hydra
    return cfg


def compose_train(
    overrides: list[str] | None = None, output_dir: Path | None = None, cache_dir: Path | None = None
) -> DictConfig:
    """The composed `train` config (see `compose_config`)."""
    return compose_config("train", overrides, output_dir, cache_dir)
