"""What the Hydra entry points share: checking the command line before Hydra runs, and turning user errors into
one line and a non-zero exit.

`check_command_line` composes the config a command asks for (each value of a `-m` sweep too) with Hydra's
compose API and validates it, before `@hydra.main` runs and before torch or Lightning are imported. Hydra's own
composition errors (an unknown key, an unknown group option, an override it cannot parse) come back as one line
that names the key and suggests the closest valid one. Torch-free: keep it that way.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig

from trainlab.compat import child_node, hydra_argument_parser
from trainlab.config.errors import TrainingInterrupted, UserError
from trainlab.config.run_dirs import is_multirun
from trainlab.config.validation import closest, validate

T = TypeVar("T")

# conf/trainer/accelerator/ options: `trainer=gpu` (lightning-hydra-template's habit) is answered with them.
ACCELERATOR_OPTIONS = ("auto", "cpu", "gpu", "mps")

# Sweep values composed and checked up front, at most (the jobs themselves are checked again when they start).
MAX_CHECKED_JOBS = 64
# When this process started (about): files older than this in a run dir were not made by this run.
STARTED = time.time()
# Files that say a run dir holds results: never removed by `remove_unused_run_dir`.
RESULT_PATTERNS = ("*.ckpt", "metrics.json")


def run_reporting_errors(task: Callable[[], T], cfg: DictConfig | None = None) -> T:
    """Validate `cfg` (when given), then run `task`; a `UserError` prints `error: …` on stderr and exits with 2.

    A single run that fails this way before it produced anything leaves no run dir behind (`remove_unused_run_dir`).
    The traceback is for developers: set HYDRA_FULL_ERROR=1 to see it. A run stopped by SIGINT/SIGTERM (its state
    saved in last.ckpt) exits with 128 + the signal number. A diverged job of a multirun sweep is reported and
    returns None: its metrics.json says "diverged", the sweep goes on with the other jobs, and the sweep summary
    lists it (`trainlab.sweep_summary`; the Optuna sweeper counts it as a failed trial).
    """
    try:
        if cfg is not None:
            validate(cfg)
        return task()
    except TrainingInterrupted as err:
        saved = f"the current state is saved in {err.ckpt}" if err.ckpt else "nothing was saved"
        print(f"{err}: {saved}; continue with resume=true (the same run dir)", file=sys.stderr)
        sys.exit(err.exit_code)
    except Exception as err:
        # Ours, or ours wrapped by Hydra's `instantiate` (an InstantiationException raised from it).
        user_error = next((e for e in causes(err) if isinstance(e, UserError)), None)
        if user_error is not None:
            remove_unused_run_dir()
            if full_error():
                raise
            print(f"error: {user_error}", file=sys.stderr)
            if getattr(user_error, "fails_job_only", False) and is_multirun():
                # Not raised: Hydra's basic sweeper would re-raise it once the batch of jobs ends, before the
                # summary, with its own "Error executing job" lines.
                return None  # type: ignore[return-value]
            sys.exit(2)
        message = lightning_complaint(err)
        if message is None or full_error():
            raise
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def causes(err: BaseException) -> list[BaseException]:
    """`err` and the exceptions it was raised from (or while handling), outermost first."""
    chain = [err]
    while (inner := chain[-1].__cause__ or chain[-1].__context__) is not None and inner not in chain:
        chain.append(inner)
    return chain


def lightning_complaint(err: BaseException) -> str | None:
    """Lightning's own refusal of a setting, as one line, or None for any other error.

    That is a `MisconfigurationException` (e.g. a `limit_val_batches` fraction below one batch), or a ValueError or
    TypeError raised by Lightning's own code, e.g. by `lightning.Trainer(...)` for a bad argument (Hydra's
    `instantiate` wraps that in an InstantiationException, so the chain of causes is searched) or by `fit` for a
    `val_check_interval` longer than an epoch. Lightning is not imported here: a run that raises one has loaded it.
    """
    exceptions = sys.modules.get("lightning.fabric.utilities.exceptions")
    misconfiguration = getattr(exceptions, "MisconfigurationException", None)
    for seen in causes(err):
        if misconfiguration is not None and isinstance(seen, misconfiguration):
            return f"Lightning refused the settings: {first_line(seen)}"
        if isinstance(seen, ValueError | TypeError) and raised_in_lightning(seen):
            return f"Lightning refused the settings: {first_line(seen)}"
    return None


def raised_in_lightning(err: BaseException) -> bool:
    """Whether `err` was raised by code of the `lightning` package (its innermost traceback frame)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and "lightning" in Path(tb.tb_frame.f_code.co_filename).parts


def first_line(err: BaseException) -> str:
    return next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)


def remove_unused_run_dir() -> Path | None:
    """Remove the run dir Hydra made for a single run that failed before it produced anything; return it if removed.

    Removed only when every file in it was written by this process (its `.hydra/` copy of the config, the log,
    a logger's hparams file) and none is a result (a checkpoint, metrics.json): a resumed run's dir, or a dir
    given with hydra.run.dir that held files before, is kept. A multirun job's dir is kept too (the sweep's
    numbering and its other jobs stay as they are).
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.RUN:
        return None
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    if not run_dir.is_dir() or run_dir.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
        return None
    files = [p for p in run_dir.rglob("*") if p.is_file() or p.is_symlink()]
    if any(p.match(pattern) for p in files for pattern in RESULT_PATTERNS):
        return None
    if any(p.lstat().st_mtime < STARTED for p in files):
        return None
    shutil.rmtree(run_dir, ignore_errors=True)
    return run_dir


def full_error() -> bool:
    return os.environ.get("HYDRA_FULL_ERROR") == "1"


def check_command_line(config_name: str, config_dir: str | Path, argv: Sequence[str] | None = None) -> None:
    """Compose and validate the config of this command line before Hydra runs it; exit 2 with one line if bad."""
    run_reporting_errors(lambda: check_overrides(config_name, config_dir, sys.argv[1:] if argv is None else argv))


def check_overrides(config_name: str, config_dir: str | Path, argv: Sequence[str]) -> None:
    """Raise `UserError` for the first override Hydra cannot apply or the first config with bad values."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args = hydra_argument_parser().parse_args(list(argv))
    except SystemExit:
        return  # a bad flag: Hydra's own parser reports it
    if args.help or args.hydra_help or args.info or args.shell_completion or args.config_path or args.config_dir:
        return  # nothing to run, or a config tree this check does not know: Hydra handles it
    if not args.overrides and not args.multirun and not args.config_name:
        return  # the shipped config as it is: nothing to check up front (the job validates it before torch loads)
    name = args.config_name or config_name
    overrides = parse(args.overrides)
    jobs = sweep_jobs(overrides, args.multirun or asks_for_multirun(overrides))

    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(Path(config_dir).resolve()), version_base="1.3", job_name=name):
        for job in jobs:
            try:
                cfg = compose(name, overrides=job)
            except Exception as err:
                raise composition_error(err, job, name) from err
            if not args.cfg:  # --cfg only prints the config: show it even with values the run would refuse
                validate(cfg)


def parse(overrides: Sequence[str]) -> list:
    """Hydra's parsed overrides; an override it cannot parse is reported by itself."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    parsed = []
    for override in overrides:
        try:
            parsed.extend(parser.parse_overrides([override]))
        except OverrideParseException as err:
            detail = str(err).splitlines()[0].replace("LexerNoViableAltException: ", "")
            raise UserError(
                f"cannot parse the override {override!r} ({detail}); write key=value, lists as key=[a,b], "
                "quote values with spaces or commas ('key=\"a b\"')"
            ) from err
    return parsed


def asks_for_multirun(overrides: list) -> bool:
    """`hydra.mode=MULTIRUN` on the command line sweeps just like `-m`."""
    return any(o.get_key_element() == "hydra.mode" and str(o.value()).upper() == "MULTIRUN" for o in overrides)


def sweep_jobs(overrides: list, multirun: bool) -> list[list[str]]:
    """The override lists to compose: the command itself, or for `-m` the first job and each other sweep value."""
    fixed: list[str] = []
    sweeps: list[list[str]] = []
    for override in overrides:
        key = override.get_key_element()
        if multirun and override.is_sweep_override():
            try:
                values = [f"{key}={value}" for value in override.sweep_string_iterator()]
            except Exception:
                continue  # e.g. a glob or an interval sweep: left to the sweeper
            if values:
                sweeps.append(values)
        else:
            fixed.append(override.input_line)
    first = [values[0] for values in sweeps]
    jobs = [fixed + first]
    for i, values in enumerate(sweeps):
        for value in values[1:]:
            jobs.append(fixed + first[:i] + [value] + first[i + 1 :])
    return list(itertools.islice(jobs, MAX_CHECKED_JOBS))


def composition_error(err: Exception, job: list[str], config_name: str) -> UserError:
    """Hydra's composition error as one line that names the override and suggests a fix."""
    from hydra.errors import MissingConfigException

    message = str(err)
    if isinstance(err, MissingConfigException) and err.missing_cfg_file and err.options is not None:
        group, _, option = str(err.missing_cfg_file).rpartition("/")
        if group == "trainer" and option in ACCELERATOR_OPTIONS:  # lightning-hydra-template's spelling
            return UserError(
                f"trainer={option}: trainlab picks the device with trainer/accelerator={option} (one of "
                f"{', '.join(ACCELERATOR_OPTIONS)}); trainer= picks the training setup: "
                + ", ".join(sorted(err.options))
            )
        if group:
            options = sorted(err.options)
            hint = closest(option, options)
            return UserError(
                f"{group}={option}: no such option in conf/{group}/; available: {', '.join(options) or 'none'}"
                + (f" (did you mean {group}={hint}?)" if hint else "")
            )
    unknown = re.match(r"Could not override '([^']+)'", message)
    if unknown and ("not in struct" in str(err.__cause__ or "") or "No match in the defaults list" in message):
        return unknown_key(unknown.group(1), job, config_name)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    lines = [line for line in itertools.takewhile(lambda ln: not ln.startswith("Config search path"), lines)]
    return UserError(" ".join(lines) or type(err).__name__)


def group_outside_defaults(override: str, group: str, loader: Any) -> UserError:
    """`group` is a config group that only an experiment brings in (`rung` of experiment=mnist_ladder): name it."""
    users = []
    for name in loader.get_group_options("experiment"):
        defaults = loader.repository.load_config(f"experiment/{name}").defaults_list or []
        if any(str(getattr(d, "group", "")).lstrip("/") == group and not d.override for d in defaults):
            users.append(f"experiment={name}")
    value = override.split("=", 1)[1] if "=" in override else "…"
    where = f"add {' or '.join(users)}, which brings it in," if users else "no experiment brings it in;"
    text = f"the config group {group!r} is not in this run's defaults: {where} or +{group}={value}"
    return UserError(f"{override}: {text}")


def unknown_key(key: str, job: list[str], config_name: str) -> UserError:
    """`key` is neither in the config nor a config group: name the closest key (or group) there is."""
    from hydra import compose
    from hydra.core.global_hydra import GlobalHydra

    override = next((o for o in job if o.split("=", 1)[0] == key), key)
    rest = [o for o in job if o is not override]
    try:
        base = compose(config_name, overrides=rest)
    except Exception:
        base = None
    parts = key.split(".")
    node, known = base, 0
    while base is not None and known < len(parts) and isinstance(node, DictConfig) and parts[known] in node:
        node = child_node(node, parts[known])
        known += 1
    candidates: list[str] = []
    if isinstance(node, DictConfig):
        candidates = [str(k) for k in node]
    if known == 0:  # a top-level name may also be a config group
        loader = GlobalHydra.instance().config_loader()
        groups = [g for g in loader.list_groups("") if g != "hydra"]
        if len(parts) == 1 and key in groups:
            return group_outside_defaults(override, key, loader)
        candidates += groups
    prefix = ".".join(parts[:known])
    hint = closest(parts[known] if known < len(parts) else key, candidates)
    where = f"{prefix} has no key {parts[known]!r}" if prefix else f"no top-level key or config group {parts[0]!r}"
    if hint:
        suggestion = f"; did you mean {prefix + '.' if prefix else ''}{hint}?"
    elif candidates and prefix:
        suggestion = f"; {prefix} has: {', '.join(candidates)}."
    else:
        suggestion = "."
    value = override.split("=", 1)[1] if "=" in override else "…"
    return UserError(f"{override}: unknown key ({where}){suggestion} To add a new key: ++{key}={value}")
