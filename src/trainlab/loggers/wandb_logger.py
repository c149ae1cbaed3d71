"""Weights & Biases glue: online or offline, sweep groups, a run id that survives resume, images at the end.

`conf/logger/wandb.yaml` instantiates `wandb_logger(...)`, which returns Lightning's own `WandbLogger` (a small
subclass that adds `watch` and writes nothing extra). Everything trainlab decides is decided here, BEFORE
`wandb.init` runs:

- mode: online only when credentials exist (WANDB_API_KEY, or a netrc entry for the W&B host) and WANDB_MODE does
  not say offline/disabled; otherwise offline, with one log line telling how to `wandb sync` the run later (wandb's
  own console output is silenced: WANDB_SILENT, unless you set it);
- files: under the run dir (`<run dir>/wandb/`), never in the folder you run from;
- group: the sweep's name for multirun jobs, so a sweep's jobs land together; job_type: train or eval;
- id: read from `<run dir>/wandb/trainlab_run_id` when the run dir already has one (`resume=true`), so the
  resumed training continues the same W&B run; else a fresh id, written there at once.
"""

from __future__ import annotations

import logging
import netrc
import os
import secrets
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lightning.pytorch.loggers import WandbLogger

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.wandb.ai"
OFFLINE_MODES = {"offline", "dryrun"}
RUN_ID_FILE = "trainlab_run_id"
USER_ENV = frozenset(os.environ)  # the variables set before trainlab changed any (per job, in a sweep)


def wandb_host() -> str:
    """The host W&B credentials are stored for (WANDB_BASE_URL for a private server)."""
    url = os.environ.get("WANDB_BASE_URL") or DEFAULT_BASE_URL
    return urlparse(url).hostname or url


def has_credentials() -> bool:
    """An API key in the environment, or a `wandb login` entry in the netrc file."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc").expanduser()
    if not path.is_file():
        return False
    try:
        entry = netrc.netrc(str(path)).authenticators(wandb_host())
    except (netrc.NetrcParseError, OSError):
        return False
    return bool(entry and entry[2])


def choose_mode(offline: bool = False) -> str:
    """The W&B mode: "online" only when nothing asks for offline and credentials exist; "disabled" on request."""
    env = os.environ.get("WANDB_MODE", "").strip().lower()
    if env == "disabled":
        return "disabled"
    if offline or env in OFFLINE_MODES or not has_credentials():
        return "offline"
    return "online"


def hydra_job() -> dict[str, Any]:
    """What Hydra knows about this job (multirun or not, the sweep's dir, the job's overrides); {} outside Hydra."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return {}
    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    return {
        "multirun": multirun,
        "sweep_name": Path(hc.sweep.dir).name if multirun else None,
        "job_num": hc.job.get("num") if multirun else None,
        "overrides": hc.job.get("override_dirname") or "",
    }


def run_id_file(output_dir: str | os.PathLike) -> Path:
    return Path(output_dir) / "wandb" / RUN_ID_FILE


def stored_or_new_run_id(output_dir: str | os.PathLike) -> str:
    """The W&B run id of this run dir: the stored one (a resumed run), else a new one, stored at once."""
    path = run_id_file(output_dir)
    if path.is_file() and (stored := path.read_text().strip()):
        return stored
    run_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))  # as wandb does
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run_id + "\n")
    return run_id


# Lightning's WandbLogger keeps wandb.init's arguments in `_wandb_init` and its run in `_experiment` (private;
# tested with lightning 2.6.6): these three functions are the only places that touch them.
def wandb_init_args(logger: WandbLogger) -> dict[str, Any]:
    """The arguments the logger will pass to wandb.init (a live dict: changes apply)."""
    return logger._wandb_init


def started_run(logger: WandbLogger) -> Any:
    """The logger's W&B run, or None when it has not started one (reading `experiment` would start it)."""
    return logger._experiment


def forget_run(logger: WandbLogger) -> None:
    """Drop the finished run, so the logger's next use starts a new one (the next job of a sweep)."""
    logger._experiment = None


class TrainlabWandbLogger(WandbLogger):
    """Lightning's WandbLogger plus optional `watch` (gradient/parameter histograms), started when fit begins."""

    def __init__(self, *args: Any, watch: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        init_args = wandb_init_args(self)
        if init_args.get("anonymous") is None:  # wandb warns about the key even when it is None
            init_args.pop("anonymous", None)
        self._watch = dict(watch) if watch else None
        self._watching = False

    @property
    def experiment(self) -> Any:
        from wandb.sdk.wandb_run import Run

        first = started_run(self) is None
        run = super().experiment
        if first and isinstance(run, Run):  # wandb's own console lines are silenced (WANDB_SILENT): say it once
            if run.settings.mode in OFFLINE_MODES:
                log.info("wandb: offline run; upload it later with: wandb sync %s", run.settings.sync_dir)
            elif run.url:
                log.info("wandb: run at %s", run.url)
        return run

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Lightning calls this once, with the LightningModule, when fit starts: the moment to `watch` it."""
        if self._watch and not self._watching:
            self.watch(model, **self._watch)
            self._watching = True


def wandb_logger(
    save_dir: str,
    project: str = "trainlab",
    entity: str | None = None,
    name: str | None = None,
    group: str | None = None,
    job_type: str | None = None,
    tags: Iterable[str] | None = None,
    notes: str | None = None,
    offline: bool = False,
    log_model: bool | str = False,
    watch: dict[str, Any] | None = None,
    **kwargs: Any,
) -> TrainlabWandbLogger:
    """A WandbLogger with trainlab's decisions made (see the module docstring); other kwargs go to `wandb.init`."""
    mode = choose_mode(offline)
    job = hydra_job()
    run_dir = Path(save_dir)
    if group is None and job.get("multirun"):
        group = job["sweep_name"]
    if name is None:
        name = f"{group}/{job['job_num']}" if job.get("multirun") else run_dir.name
    # wandb.init(dir=…) needs the folder to exist; it writes `<run dir>/wandb/…`. WANDB_DIR too, and the staging
    # copies of log_model checkpoints (WANDB_DATA_DIR, unless you set it) go there as well, so an offline run's
    # folder holds everything `wandb sync` uploads.
    run_dir.mkdir(parents=True, exist_ok=True)
    os.environ["WANDB_DIR"] = str(run_dir)
    if "WANDB_SILENT" not in USER_ENV:  # wandb's banner and summary repeat the run's path; trainlab says it once
        os.environ["WANDB_SILENT"] = "true"
    if "WANDB_DATA_DIR" not in USER_ENV:
        os.environ["WANDB_DATA_DIR"] = str(run_dir / "wandb" / "data")
    run_id = stored_or_new_run_id(run_dir) if mode != "disabled" else None
    return TrainlabWandbLogger(
        save_dir=str(run_dir),
        project=project,
        entity=entity,
        name=name,
        group=group,
        job_type=job_type,
        tags=list(tags or []),
        notes=notes,
        id=run_id,
        resume="allow",
        mode=mode,
        log_model=log_model,
        watch=watch,
        **kwargs,
    )


def wandb_loggers(loggers: Iterable[Any]) -> list[WandbLogger]:
    return [lg for lg in loggers if isinstance(lg, WandbLogger)]


def log_images(logger: WandbLogger, run_dir: str | os.PathLike) -> list[str]:
    """Log every PNG under the run dir (learning curves and other plots) as W&B images; return their keys."""
    import wandb

    root = Path(run_dir)
    pngs = sorted(p for p in root.rglob("*.png") if "wandb" not in p.relative_to(root).parts)
    if not pngs:
        return []
    images = {f"plots/{p.relative_to(root).with_suffix('').as_posix()}": wandb.Image(str(p)) for p in pngs}
    logger.experiment.log(images)
    return list(images)


def finish(loggers: Iterable[Any], run_dir: str | os.PathLike, exit_code: int = 0) -> None:
    """End this job's W&B run (plots logged first), so the next job of a sweep in this process starts its own."""
    for logger in wandb_loggers(loggers):
        if started_run(logger) is None:  # never started (e.g. a crash before fit): nothing to finish
            continue
        if exit_code == 0:
            log_images(logger, run_dir)
        logger.experiment.finish(exit_code=exit_code)
        forget_run(logger)
