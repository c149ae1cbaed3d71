"""Resuming a run: the config it continues with (its own), the checkpoint it starts from, and whether there is
anything left to train.

A run dir keeps the config it started with in `.hydra/config.yaml` and its group choices in `.hydra/hydra.yaml`.
Resuming it in place (resume=true, or `hydra.run.dir=<run> ckpt_path=<a file inside it>`) continues with that
config, loggers included, so `resume=true trainer.max_epochs=4` is all a user types. The command line may change
only what RESUMABLE lists: how long to train on, how much to validate and test, where to run, what to print and
save, where files are. Retyping a saved value is fine; any other change is a one-line error naming the key (a
new run is the way to train with another model, data set or optimizer). Hydra never overwrites the saved files:
a resumed run records its own `.hydra/` files in `.hydra/resume-<time>/` (`trainlab.config.run_dirs`).

A run that has already trained as long as asked (its last.ckpt holds `trainer.max_epochs` epochs) is left as it
is: one line says so and the entry point exits 0 before Hydra writes anything (`check_before_hydra`).

Torch-free at import: the checkpoint is read (lazily, memory-mapped) only when a run resumes or starts from one.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import Container, DictConfig, OmegaConf, open_dict, read_write

from trainlab.compat import child_node, hydra_argument_parser, written_value
from trainlab.config.errors import UserError
from trainlab.config.run_dirs import LAST_CKPT, is_multirun, truthy

# What a resumed run may change (a key, or everything under it): nothing here alters what is trained or on what.
RESUMABLE = (
    "resume",
    "ckpt_path",
    "trainer.max_epochs",
    "trainer.max_steps",
    "trainer.limit_val_batches",
    "trainer.limit_test_batches",
    "trainer.accelerator",
    "trainer.devices",
    "trainer.enable_progress_bar",
    "callbacks",
    "paths",
    "print_config",
    "test",
)
# Config groups a resumed run may switch, and the keys they set.
RESUMABLE_GROUPS = {"trainer/accelerator": ("trainer.accelerator", "trainer.devices"), "callbacks": ("callbacks",)}
SAVED_CONFIG = Path(".hydra") / "config.yaml"
SAVED_HYDRA = Path(".hydra") / "hydra.yaml"
_ABSENT = object()


class AlreadyCompleted(Exception):
    """The checkpoint has trained as long as the config asks: nothing to do (not an error: exit 0)."""


@dataclass
class SavedRun:
    """A run dir's own config (as saved, interpolations kept) and its config group choices."""

    dir: Path
    config: DictConfig
    choices: dict[str, Any]


def saved_run(run_dir: str | Path) -> SavedRun | None:
    """The config a run dir was started with, or None (a new run dir, or one saved without `.hydra/`)."""
    folder = Path(run_dir)
    if not (folder / SAVED_CONFIG).is_file():
        return None
    config = OmegaConf.load(folder / SAVED_CONFIG)
    choices: dict[str, Any] = {}
    if (folder / SAVED_HYDRA).is_file():
        hydra = OmegaConf.load(folder / SAVED_HYDRA)
        choices = OmegaConf.to_container(hydra.hydra.runtime.choices) or {}  # type: ignore[assignment]
    assert isinstance(config, DictConfig)
    return SavedRun(folder, config, choices)


def resumes_in_place(cfg: DictConfig) -> bool:
    """resume=true, or a `ckpt_path` inside this run's own dir: the run continues where it is."""
    if truthy(cfg.get("resume", False)):
        return True
    ckpt = cfg.get("ckpt_path")
    return bool(ckpt) and Path(cfg.paths.output_dir).resolve() in Path(str(ckpt)).resolve().parents


def is_resumable(key: str) -> bool:
    return any(key == k or key.startswith(k + ".") for k in RESUMABLE)


def override_key(override: Any) -> str:
    """The config key (or group) an override sets: `++trainer.max_epochs=4` → trainer.max_epochs."""
    return str(override.key_or_group)


def raw(cfg: DictConfig, key: str) -> Any:
    """The value at `key` as written (interpolations unresolved), or _ABSENT."""
    parent_key, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(cfg, parent_key, default=_ABSENT) if parent_key else cfg
    if not isinstance(parent, DictConfig) or leaf not in parent:
        return _ABSENT
    node = child_node(parent, leaf)
    return OmegaConf.to_container(node, resolve=False) if isinstance(node, Container) else written_value(parent, leaf)


def typed_value(override: Any) -> Any:
    """The value an override gives (None for a delete), as plain data comparable with `raw`."""
    if override.is_delete():
        return _ABSENT
    value = override.value()
    return OmegaConf.to_container(OmegaConf.create({"v": value}))["v"]  # type: ignore[index]


def conflict(override: Any, run: SavedRun) -> str | None:
    """How `override` would change the saved run (None: it does not, or resuming may change that key)."""
    key = override_key(override)
    if key.startswith("hydra") or is_resumable(key) or key in RESUMABLE_GROUPS:
        return None
    if key in run.choices:  # a config group: the saved choice must stay
        saved, typed = run.choices[key], typed_value(override)
        if as_list(saved) == as_list(None if typed is _ABSENT else typed):
            return None
        return f"{override.input_line} (the run has {key}={show(saved)})"
    saved, typed = raw(run.config, key), typed_value(override)
    if saved == typed:
        return None
    was = "no such key" if saved is _ABSENT else f"{key}={show(saved)}"
    return f"{override.input_line} (the run has {was})"


def as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(show(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def restored_config(cfg: DictConfig, overrides: Sequence[Any]) -> DictConfig:
    """The config a run continues with: for a run resumed in place, its saved config with the resumable keys of
    `overrides` (the command line) taken from `cfg`; else `cfg` itself. A conflicting override is a UserError."""
    if not resumes_in_place(cfg) or (run := saved_run(cfg.paths.output_dir)) is None:
        return cfg
    overrides = list({override_key(o): o for o in overrides}.values())  # a key typed twice: the last one counts
    for override in overrides:
        if problem := conflict(override, run):
            may = ", ".join(k for k in RESUMABLE if k not in ("resume", "ckpt_path"))
            raise UserError(
                f"resume: {problem} conflicts with the run's saved config ({run.dir / SAVED_CONFIG}); resuming may "
                f"change only {may}; start a new run to train with other settings"
            )
    restored = run.config.copy()
    keys = ["resume", "ckpt_path"]
    for override in overrides:
        key = override_key(override)
        keys += RESUMABLE_GROUPS.get(key, (key,) if is_resumable(key) else ())
    with open_dict(restored):
        for key in keys:
            value = raw(cfg, key)
            if value is _ABSENT:
                parent, _, leaf = key.rpartition(".")
                node = OmegaConf.select(restored, parent) if parent else restored
                if isinstance(node, DictConfig) and leaf in node:
                    del node[leaf]
            else:
                OmegaConf.update(restored, key, value, merge=False, force_add=True)
    return restored


def resumed_config(cfg: DictConfig) -> DictConfig:
    """`restored_config` for the job Hydra runs now (its command line read from Hydra's config); the restored
    config is also what `.hydra/resume-<time>/config.yaml` records."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if not HydraConfig.initialized():
        return cfg
    hydra = HydraConfig.get()
    restored = restored_config(cfg, OverridesParser.create().parse_overrides(list(hydra.overrides.task)))
    subdir = hydra.output_subdir
    if restored is not cfg and subdir and Path(subdir) != Path(".hydra"):
        # Hydra saved the command line's own composition there: record the config this session really runs.
        OmegaConf.save(restored, Path(cfg.paths.output_dir) / subdir / "config.yaml")
    return restored


def checkpoint_to_resume(cfg: DictConfig) -> str | None:
    """The checkpoint `trainer.fit` starts from: `ckpt_path` when set, `<run dir>/checkpoints/last.ckpt` with
    resume=true, else None (a fresh run)."""
    explicit = cfg.get("ckpt_path")
    if not truthy(cfg.get("resume", False)):
        return explicit
    if is_multirun():
        raise UserError("resume=true continues one run; it does not apply to a multirun sweep (drop -m or resume)")
    if explicit:
        return explicit
    last = Path(cfg.paths.output_dir) / LAST_CKPT
    if not last.is_file():
        runs = Path(cfg.paths.log_dir) / str(cfg.task_name) / "runs"
        raise UserError(
            f"resume=true: nothing to resume: no run under {runs} has {LAST_CKPT.as_posix()} "
            f"(and the run dir {cfg.paths.output_dir} has none); start a run with python src/train.py, "
            "or pass ckpt_path=<file>"
        )
    return str(last)


def trained(ckpt_path: str) -> tuple[int, int]:
    """(epochs completed, optimizer steps) that a Lightning checkpoint holds. Memory-mapped: weights not read."""
    import torch

    try:
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True)
    except FileNotFoundError as err:
        raise UserError(f"ckpt_path={ckpt_path}: no such file; pass a .ckpt file from a run's checkpoints/") from err
    except Exception as err:
        raise UserError(f"ckpt_path={ckpt_path}: not a readable checkpoint ({type(err).__name__})") from err
    # `processed` counts an epoch whose batches are all done, even when the save came before Lightning marked
    # it completed (ModelCheckpoint saves in on_validation_end of the epoch).
    epochs = ckpt.get("loops", {}).get("fit_loop", {}).get("epoch_progress", {}).get("current", {}).get("processed")
    return int(epochs if epochs is not None else ckpt.get("epoch", 0)), int(ckpt.get("global_step", 0))


def check_completed(cfg: DictConfig, ckpt_path: str | None) -> None:
    """Raise `AlreadyCompleted` when `ckpt_path` has trained `trainer.max_epochs` epochs (or max_steps steps)."""
    if not ckpt_path:
        return
    epochs, steps = trained(ckpt_path)
    max_epochs, max_steps = cfg.trainer.get("max_epochs"), cfg.trainer.get("max_steps", -1)
    if max_steps is not None and max_steps >= 0 and steps >= max_steps:
        raise AlreadyCompleted(f"already completed {steps} steps; raise trainer.max_steps to train on ({ckpt_path})")
    if max_epochs is not None and 0 <= max_epochs <= epochs:
        noun = "epoch" if epochs == 1 else "epochs"
        raise AlreadyCompleted(f"already completed {epochs} {noun}; raise trainer.max_epochs to train on ({ckpt_path})")


def check_before_hydra(config_name: str, config_dir: str | Path, argv: Sequence[str] | None = None) -> None:
    """For a command that resumes or starts from a checkpoint: refuse a conflicting change, and say (exit 0) when
    there is nothing left to train, before Hydra makes or writes into any run dir."""
    from trainlab.config.cli import run_reporting_errors

    try:
        run_reporting_errors(lambda: _check(config_name, config_dir, sys.argv[1:] if argv is None else argv))
    except AlreadyCompleted as done:
        print(done)
        sys.exit(0)


def _check(config_name: str, config_dir: str | Path, argv: Sequence[str]) -> None:
    from trainlab.config.cli import parse

    try:
        args = hydra_argument_parser().parse_args(list(argv))
    except SystemExit:
        return
    overrides = parse(args.overrides)
    keys = {override_key(o) for o in overrides}
    if args.multirun or args.cfg or args.help or args.hydra_help or not keys & {"resume", "ckpt_path"}:
        return  # multirun: refused in train(); --cfg/--help: nothing runs
    if any(override_key(o) == "hydra.mode" for o in overrides):
        return
    cfg = _compose_with_run_dir(config_name, config_dir, [o.input_line for o in overrides])
    if not truthy(cfg.get("train", True)):
        return  # train=false ckpt_path=…: a test of that checkpoint, nothing is resumed
    cfg = restored_config(cfg, overrides)
    check_completed(cfg, checkpoint_to_resume(cfg))


def _compose_with_run_dir(config_name: str, config_dir: str | Path, overrides: list[str]) -> DictConfig:
    """The config Hydra will compose, with the run dir it will choose (so `paths.output_dir` resolves)."""
    import os

    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig

    with initialize_config_dir(config_dir=str(Path(config_dir).resolve()), version_base="1.3", job_name=config_name):
        cfg = compose(config_name, overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # for ${hydra:…} in the config, as when Hydra runs the job
    with read_write(cfg.hydra.runtime):
        cfg.hydra.runtime.output_dir = os.path.abspath(str(cfg.hydra.run.dir))
    HydraConfig.instance().set_config(cfg)
    return cfg
