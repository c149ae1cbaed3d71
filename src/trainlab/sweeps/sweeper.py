"""The Optuna sweep loop behind `hydra/sweeper=optuna` (see `hydra_plugins.trainlab_optuna_sweeper`).

Each round asks the study for `n_jobs` trials, launches them as one batch with the configured launcher (basic,
joblib, submitit), and tells the study how each ended: COMPLETE with the job's return value (`optimized_metric`),
PRUNED when the job raised `optuna.TrialPruned`, FAIL when it raised anything else, diverged, or returned no
finite value. The sweep goes on until the study holds `n_trials` trials (a study continued from its storage
counts its earlier ones), and stops with one line on stderr once more than `max_failure_rate × n_trials` failed.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

import optuna
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from optuna.trial import TrialState

from trainlab.config.errors import UserError
from trainlab.sweep_summary import minimize
from trainlab.sweeps.pruners import build_pruner, pruner_setting
from trainlab.sweeps.results import best_line, summary, write_results
from trainlab.sweeps.search_space import SearchSpace, grid_choices, parse_space
from trainlab.sweeps.storage import open_storage, storage_spec
from trainlab.sweeps.trial import PRUNER_ATTR, job_overrides

log = logging.getLogger(__name__)

# User attributes of a trial: why it failed; that an interrupted sweep left it running (not counted as a trial).
FAILURE_ATTR = "trainlab.failure"
STALE_ATTR = "trainlab.interrupted"
JOB_DIR_ATTR = "trainlab.job_dir"
COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING)


def plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


class OptunaSweeper:
    """hydra-optuna-sweeper's settings, plus `pruner` and a `max_failure_rate` that defaults to 0.5; `direction`
    null follows `optimized_metric` (minimize a loss or an error, maximize anything else)."""

    def __init__(
        self,
        sampler: Any = None,
        direction: Any = None,
        storage: Any = None,
        study_name: str | None = None,
        n_trials: int = 20,
        n_jobs: int = 1,
        max_failure_rate: float = 0.5,
        pruner: Any = None,
        params: Any = None,
        search_space: Any = None,
        custom_search_space: str | None = None,
    ) -> None:
        if search_space:
            raise UserError("hydra.sweeper.search_space: write the search space in hydra.sweeper.params instead")
        if not 0.0 <= float(max_failure_rate) <= 1.0:
            raise UserError(f"hydra.sweeper.max_failure_rate={max_failure_rate}: a fraction from 0 to 1")
        if int(n_trials) < 1 or int(n_jobs) < 1:
            raise UserError(f"hydra.sweeper.n_trials={n_trials}, n_jobs={n_jobs}: both must be ≥ 1")
        self.sampler_setting = plain(sampler) or {"_target_": "optuna.samplers.TPESampler"}
        self.direction = direction_name(plain(direction)) if direction is not None else None
        self.storage, self.study_name = storage, study_name
        self.n_trials, self.n_jobs, self.max_failure_rate = int(n_trials), int(n_jobs), float(max_failure_rate)
        self.pruner = pruner_setting(plain(pruner))
        self.params = plain(params) or {}
        self.custom_search_space = custom_search_space

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )
        self.sweep_dir = Path(str(config.hydra.sweep.dir))

    def sweep(self, arguments: list[str]) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # the sweep prints its own line per trial
        metric = str(self.config.get("optimized_metric") or "value")
        if self.direction is None:  # as the sweep summary ranks: losses and errors down, anything else up
            self.direction = "minimize" if minimize(metric) else "maximize"
        space = parse_space(self.params, arguments)
        study, spec = self.open_study(space)
        extend = None
        if self.custom_search_space:
            extend = instantiate({"_target_": self.custom_search_space, "_partial_": True})
        log.info(
            f"optuna: study {study.study_name} in {spec}: {self.n_trials} trials, {type(study.sampler).__name__}, "
            f"{type(study.pruner).__name__}, {self.direction} {metric}"
        )
        while (batch := self.batch_size(study)) > 0:
            trials = [study.ask(space.distributions) for _ in range(batch)]
            overrides = []
            for trial in trials:
                if extend is not None:
                    extend(self.config, trial)
                overrides.append(space.overrides(trial.params) + job_overrides(spec, study.study_name, trial.number))
            returns = self.launcher.launch(overrides, initial_job_idx=trials[0].number)
            for trial, ret in zip(trials, returns, strict=True):
                self.tell(study, trial, ret, metric)
            self.stop_if_failing(study, spec, metric)
        self.finish(study, spec, metric)

    def open_study(self, space: SearchSpace) -> tuple[optuna.Study, str]:
        """The study in its storage, created or continued; trials an interrupted sweep left RUNNING in the
        sweep dir's own storage are marked failed (nobody else runs them) and not counted."""
        self.sweep_dir.mkdir(parents=True, exist_ok=True)
        spec = storage_spec(self.storage, self.sweep_dir)
        storage = open_storage(spec)
        name = self.study_name or self.sweep_dir.name
        sampler = self.build_sampler(space, earlier_trials(storage, name))
        study = optuna.create_study(
            storage=storage,
            sampler=sampler,
            pruner=build_pruner(self.pruner),
            study_name=name,
            direction=self.direction,
            load_if_exists=True,
        )
        if study.direction.name.lower() != self.direction:
            raise UserError(
                f"hydra.sweeper.direction={self.direction}: study {name} in {spec} was made to "
                f"{study.direction.name.lower()}; use another study_name"
            )
        study.set_user_attr(PRUNER_ATTR, self.pruner)
        if self.storage in (None, ""):
            for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
                study._storage.set_trial_user_attr(trial._trial_id, STALE_ATTR, True)
                study.tell(trial.number, state=TrialState.FAIL)
        return study, spec

    def build_sampler(self, space: SearchSpace, earlier: int = 0) -> optuna.samplers.BaseSampler:
        """The sampler of `hydra.sweeper.sampler` (any `optuna.samplers` class); GridSampler gets the grid of
        `params`, and the sweep then has at most as many trials as the grid has points. A continued study's
        sampler gets its seed plus the trials already there: with the same seed, its random (startup) draws would
        repeat the first trials' values."""
        setting = dict(self.sampler_setting)
        if earlier and isinstance(setting.get("seed"), int):
            setting["seed"] += earlier
        target = str(setting.get("_target_", ""))
        if not target.startswith("optuna.samplers."):
            raise UserError(f"hydra.sweeper.sampler._target_={target or 'null'}: a class of optuna.samplers")
        if target.rsplit(".", 1)[-1] == "GridSampler":
            setting.pop("_partial_", None)
            grid = grid_choices(space)
            setting["search_space"] = grid
            self.n_trials = min(self.n_trials, math.prod(len(v) for v in grid.values()))
        try:
            sampler = instantiate(setting)
        except Exception as err:
            cause = err.__cause__ or err
            raise UserError(f"hydra.sweeper.sampler: {str(cause).splitlines()[0]}") from err
        return sampler() if isinstance(sampler, functools.partial) else sampler

    def batch_size(self, study: optuna.Study) -> int:
        """How many trials to start now: up to `n_jobs`, until the study holds `n_trials` (trials other
        processes run in the same study count too)."""
        trials = study.get_trials(deepcopy=False, states=COUNTED)
        held = sum(1 for t in trials if not t.user_attrs.get(STALE_ATTR))
        return max(0, min(self.n_jobs, self.n_trials - held))

    def tell(self, study: optuna.Study, trial: optuna.Trial, ret: JobReturn, metric: str) -> None:
        state, value, why = outcome(ret)
        job_dir = output_dir(ret)
        trial.set_user_attr(JOB_DIR_ATTR, str(job_dir) if job_dir else None)
        if state == TrialState.FAIL:
            trial.set_user_attr(FAILURE_ATTR, why)
        try:
            study.tell(trial, state=state, values=value if state == TrialState.COMPLETE else None)
        except RuntimeError as err:  # GridSampler stops "the optimize loop" once the grid is covered: none here
            if "Study.stop" not in str(err):
                raise
        shown = f"{metric}={value:.4f}" if value is not None else why
        params = " ".join(f"{k}={v}" for k, v in trial.params.items())
        log.info(f"optuna: trial {trial.number} {state.name.lower()}: {shown}  {params}")

    def stop_if_failing(self, study: optuna.Study, spec: str, metric: str) -> None:
        """More than `max_failure_rate × n_trials` failed trials: the sweep cannot do what it was asked; say why
        in one line (the latest failure and its job dir) and exit with 2."""
        failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        failed = [t for t in failed if FAILURE_ATTR in t.user_attrs]
        if len(failed) <= self.max_failure_rate * self.n_trials:
            return
        write_results(self.sweep_dir, summary(study, spec, metric))
        last = failed[-1]
        print(
            f"error: optuna sweep stopped: {len(failed)} trials failed, more than hydra.sweeper.max_failure_rate="
            f"{self.max_failure_rate} of n_trials={self.n_trials}; the latest, trial {last.number} "
            f"({last.user_attrs.get(JOB_DIR_ATTR)}): {last.user_attrs[FAILURE_ATTR]}",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(2)

    def finish(self, study: optuna.Study, spec: str, metric: str) -> None:
        results = summary(study, spec, metric)
        path = write_results(self.sweep_dir, results)
        print(f"{best_line(results)}\nwritten to {path}", flush=True)


def earlier_trials(storage: Any, name: str) -> int:
    """How many trials the study `name` holds already (0 when there is no such study yet)."""
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        return 0
    return len(storage.get_all_trials(study_id, deepcopy=False))


def direction_name(direction: Any) -> str:
    name = str(getattr(direction, "name", direction)).lower()
    if name not in ("minimize", "maximize"):
        raise UserError(f"hydra.sweeper.direction={direction}: minimize or maximize (one objective)")
    return name


def output_dir(ret: JobReturn) -> Path | None:
    try:
        return Path(str(ret.hydra_cfg.hydra.runtime.output_dir))
    except Exception:
        return None


def outcome(ret: JobReturn) -> tuple[TrialState, float | None, str]:
    """How a job ended, for the study: (state, value, why it failed)."""
    # JobReturn.return_value would print "Error executing job …" and raise: the job's exception is read directly.
    if ret.status != JobStatus.COMPLETED:
        err = ret._return_value
        if isinstance(err, optuna.TrialPruned):
            return TrialState.PRUNED, None, str(err) or "pruned"
        lines = [line for line in str(err).splitlines() if line.strip()]
        return TrialState.FAIL, None, f"{type(err).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    value = ret.return_value
    job_dir = output_dir(ret)
    status = job_status(job_dir) if job_dir else None
    if status == "diverged":
        return TrialState.FAIL, None, f"diverged (see {job_dir / 'metrics.json'})"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return TrialState.FAIL, None, f"returned {value!r}, not a number (is optimized_metric logged?)"
    if not math.isfinite(number):
        return TrialState.FAIL, None, f"returned {number}"
    return TrialState.COMPLETE, number, ""


def job_status(job_dir: Path) -> str | None:
    """The `status` a trainlab job wrote to its metrics.json, if any."""
    try:
        return json.loads((job_dir / "metrics.json").read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return None
