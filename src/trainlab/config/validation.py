"""Checking a composed config before anything heavy runs: ranges, types and known choices, key by key.

`validate(cfg)` reports every problem as `<key>=<value> is <what is wrong>: must be <what is allowed>`, e.g.
`regularization.dropout=1.5 is out of range: must be in [0, 1)`. Torch-free and Lightning-free: the entry points
call it before importing either, so a bad override comes back in about a second.

Only keys that are present are checked, so a net or an optimizer of your own with other arguments passes; a key
with a known name must hold a sensible value wherever it appears in its group.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from trainlab.compat import written_value
from trainlab.config import choices
from trainlab.config.errors import UserError
from trainlab.config.tasks import check_task, fit_metrics, is_tabular, test_metrics

_ABSENT = object()
_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_REFERENCE = re.compile(r"^\$\{[\w.]+\}$")  # a plain reference to another key, not a resolver call
MAX_SEED = 2**32 - 1  # numpy's and Lightning's seed range is [0, 2**32 - 1]


class ConfigError(UserError):
    """One or more config values are out of range, of the wrong type, or not a known choice."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def show(value: Any) -> str:
    """A value as it would be written in an override."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, ListConfig | DictConfig):
        value = OmegaConf.to_container(value, resolve=True)
    if isinstance(value, list | tuple):
        return "[" + ",".join(show(v) for v in value) + "]"
    return str(value)


def closest(word: Any, options: Iterable[Any]) -> str | None:
    """The option most like `word` (for "did you mean …?"), or None."""
    names = [str(o) for o in options]
    found = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    return found[0] if found else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() and abs(bound) < 1e15 else str(bound)


class _Checker:
    """Collects problems with the values of one composed config."""

    def __init__(self, cfg: DictConfig) -> None:
        self.cfg = cfg
        self.problems: list[str] = []

    # -- reading -------------------------------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        """The resolved value at `key`, `_ABSENT` when there is no such key (or it is the mandatory `???`)."""
        parent, _, leaf = key.rpartition(".")
        node = self.cfg
        if parent:
            node = OmegaConf.select(self.cfg, parent, default=None, throw_on_resolution_failure=False)
        if isinstance(node, DictConfig) and leaf in node and _REFERENCE.match(str(written_value(node, leaf))):
            self.reference_resolves(key, str(written_value(node, leaf))[2:-1])
            return _ABSENT  # `${other.key}`: checked where it is set, so a bad value is reported once
        try:
            return OmegaConf.select(self.cfg, key, default=_ABSENT, throw_on_missing=True)
        except MissingMandatoryValue:
            return _ABSENT
        except OmegaConfBaseException as err:
            self.problems.append(f"{key} cannot be resolved: {str(err).splitlines()[0]}")
            return _ABSENT

    def reference_resolves(self, key: str, target: str) -> None:
        """`key: ${target}` needs `target` (e.g. init=he's `${model.activation}`, which a net of your own may lack)."""
        if target.startswith("."):
            return  # relative to its node: resolved by OmegaConf where it is used
        if OmegaConf.select(self.cfg, target, default=_ABSENT, throw_on_resolution_failure=False) is _ABSENT:
            group = target.split(".", 1)[0]
            self.problems.append(
                f"{key}=${{{target}}} refers to {target}, which this config does not have: add it to the {group} "
                f"config (conf/{group}/<option>.yaml) or pass ++{target}=<value>"
            )

    def fail(self, key: str, value: Any, what: str, allowed: str, suggestion: str | None = None) -> None:
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        self.problems.append(f"{key}={show(value)} is {what}: must be {allowed}{hint}")

    # -- rules ---------------------------------------------------------------------------------------------------

    def number(
        self,
        key: str,
        low: float | None = None,
        high: float | None = None,
        *,
        low_open: bool = False,
        high_open: bool = False,
        integer: bool = False,
        nullable: bool = False,
        also: Sequence[Any] = (),
        also_text: str = "",
    ) -> None:
        """A (finite) number in a range; `also` lists extra accepted values (e.g. -1 for "no limit")."""
        value = self.get(key)
        if value is _ABSENT or (nullable and value is None) or (value in also and not isinstance(value, bool)):
            return
        allowed = self._range_text(low, high, low_open, high_open, integer)
        if also_text:
            allowed += f", or {also_text}"
        if nullable:
            allowed += ", or null"
        if integer and not _is_int(value):
            self.fail(key, value, "not an integer", allowed)
        elif not integer and not _is_number(value):
            self.fail(key, value, "not a number", allowed)
        elif isinstance(value, float) and not math.isfinite(value):
            self.fail(key, value, "not finite", allowed)
        elif (
            (low is not None and (value <= low if low_open else value < low))
            or (high is not None and (value >= high if high_open else value > high))
        ):  # fmt: skip
            self.fail(key, value, "out of range", allowed)

    @staticmethod
    def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool, integer: bool) -> str:
        kind = "an integer" if integer else "a number"
        if low is not None and high is not None:
            left, right = "(" if low_open else "[", ")" if high_open else "]"
            return f"{'an integer ' if integer else ''}in {left}{_fmt(low)}, {_fmt(high)}{right}"
        if low is not None:
            return f"{kind} {'>' if low_open else '≥'} {_fmt(low)}"
        if high is not None:
            return f"{kind} {'<' if high_open else '≤'} {_fmt(high)}"
        return kind

    def choice(self, key: str, options: Sequence[Any], nullable: bool = False) -> None:
        value = self.get(key)
        if value is _ABSENT or (nullable and value is None):
            return
        if isinstance(value, bool) or value not in options:
            listed = ", ".join(str(o) for o in dict.fromkeys(str(o) for o in options))
            self.fail(key, value, "not a known choice", f"one of {listed}", closest(value, options))

    def boolean(self, key: str, also: Sequence[str] = ()) -> None:
        value = self.get(key)
        if value is _ABSENT or isinstance(value, bool) or value in also:
            return
        self.fail(key, value, "not a boolean", "true or false" + "".join(f" or {a}" for a in also))

    def string(self, key: str, nullable: bool = False) -> None:
        value = self.get(key)
        if value is _ABSENT or (nullable and value is None) or (isinstance(value, str) and value):
            return
        self.fail(key, value, "not a string", "a non-empty string" + (" or null" if nullable else ""))

    def import_path(self, key: str) -> None:
        value = self.get(key)
        if value is _ABSENT:
            return
        if not isinstance(value, str) or not _IMPORT_PATH.match(value):
            self.fail(key, value, "not an import path", "a dotted path to a class, like torch.optim.Adam")

    def int_list(self, key: str, low: int = 1) -> None:
        value = self.get(key)
        if value is _ABSENT:
            return
        if not isinstance(value, ListConfig | list) or not all(_is_int(v) and v >= low for v in value):
            self.fail(key, value, "not a list of integers ≥ 1", f"a list of integers ≥ {low}, like [256,256]")

    def custom(self, key: str, ok: Callable[[Any], bool], what: str, allowed: str) -> None:
        value = self.get(key)
        if value is not _ABSENT and not ok(value):
            self.fail(key, value, what, allowed)


# -- the config groups -------------------------------------------------------------------------------------------


def _top(c: _Checker) -> None:
    c.number("seed", 0, MAX_SEED, integer=True, nullable=True)
    c.choice("matmul_precision", choices.MATMUL_PRECISIONS)
    c.boolean("train")
    c.boolean("test")
    c.boolean("print_config")
    c.boolean("resume")
    c.string("optimized_metric")
    c.choice("device", ("auto", "cpu", "cuda"))  # src/predict.py
    if c.get("task_name") in ENSEMBLE_TASKS:
        _ensemble_checkpoints(c)
        return
    c.string("ckpt_path", nullable=True)
    c.custom(
        "tags",
        lambda v: isinstance(v, ListConfig | list) and all(isinstance(t, str | int | float) for t in v),
        "not a list of tags",
        "a list, like tags=[mlp,baseline]",
    )
    ckpt = c.get("ckpt_path")
    if isinstance(ckpt, str) and ckpt and not Path(ckpt).is_file():
        where = "" if Path(ckpt).is_absolute() else f" (relative to {os.getcwd()})"
        c.problems.append(f"ckpt_path={ckpt}: no such file{where}; pass a .ckpt file from a run's checkpoints/ folder")
    if c.get("train") is False:
        if not ckpt:
            c.problems.append("train=false tests a checkpoint without training: pass ckpt_path=<file>.ckpt")
        if c.get("test") is False:
            c.problems.append("train=false with test=false does nothing: drop one of them")


# Entry points whose ckpt_path may also be a list of checkpoints or a run/sweep dir (an ensemble).
ENSEMBLE_TASKS = ("eval", "predict")


def _ensemble_checkpoints(c: _Checker) -> None:
    """eval/predict: `ckpt_path` is a .ckpt file, a run or sweep dir, or a list of them; each must exist."""
    value = c.get("ckpt_path")
    if value is _ABSENT:
        return
    entries = list(value) if isinstance(value, ListConfig | list) else [value]
    if not entries or not all(isinstance(e, str) and e for e in entries):
        c.fail("ckpt_path", value, "not a checkpoint", "a .ckpt file, a run or sweep dir, or a list: [a.ckpt,b.ckpt]")
        return
    for entry in entries:
        if not Path(entry).exists():
            where = "" if Path(entry).is_absolute() else f" (relative to {os.getcwd()})"
            c.problems.append(
                f"ckpt_path={entry}: no such file or folder{where}; pass .ckpt files, a run dir or a sweep dir"
            )


def produced_metrics(cfg: DictConfig, during_fit: bool = False) -> list[str]:
    """The metrics a run of `cfg` logs: what `optimized_metric` (or, `during_fit`, a monitor) may name."""
    regularization = cfg.get("regularization") or {}
    names = fit_metrics(cfg)  # the task's and the metrics group's
    if any(_is_number(regularization.get(k)) and regularization.get(k) > 0 for k in ("l1", "l2")) or any(
        (regularization.get("penalties") or {}).values()
    ):
        names.append(choices.PENALTY_METRIC)
    names.extend(diagnostics_metrics(cfg))
    if not during_fit and cfg.get("test", True) is not False:
        names.extend(test_metrics(cfg))
    return names


def diagnostics_metrics(cfg: DictConfig) -> list[str]:
    """The per-epoch metrics of the diagnostics that are on (the `diagnostics` group: trainlab.diagnostics.build)."""
    diagnostics = cfg.get("diagnostics") or {}
    names = []
    if (diagnostics.get("gradients") or {}).get("every_n_steps"):
        names += ["train/grad_norm", "train/update_ratio"]
    if diagnostics.get("ewma_beta") is not None:
        names.append("train/loss_ewma")
    return names


def _diagnostics(c: _Checker) -> None:
    for key in ("curves", "verdict", "steps"):
        c.boolean(f"diagnostics.{key}")
    c.number("diagnostics.reference_error", 0, 1, high_open=True)
    c.number("diagnostics.bias_threshold", 0)
    c.number("diagnostics.variance_threshold", 0)
    c.number("diagnostics.gradients.every_n_steps", 0, integer=True)
    c.number("diagnostics.gradients.vanishing_ratio", 0, 1, low_open=True, high_open=True)
    c.number("diagnostics.gradients.exploding_factor", 1, low_open=True)
    c.number("diagnostics.activations.every_n_epochs", 0, integer=True)
    c.number("diagnostics.activations.saturation_margin", 0, 0.5, low_open=True, high_open=True)
    c.number("diagnostics.ewma_beta", 0, 1, high_open=True, nullable=True)
    if c.get("diagnostics.verdict") is True and c.get("diagnostics.curves") is False:
        c.problems.append(
            "diagnostics.verdict=true has no effect with diagnostics.curves=false: the verdict is drawn from the "
            "learning curves' history; set diagnostics.curves=true, or diagnostics.verdict=false"
        )


def _metrics(c: _Checker) -> None:
    """`optimized_metric` and the monitors must name a metric the run logs, or they would silently see None."""
    try:
        produced, during_fit = produced_metrics(c.cfg), produced_metrics(c.cfg, during_fit=True)
    except OmegaConfBaseException:
        return  # a value that does not resolve is reported by its own group
    for key, allowed in (
        ("optimized_metric", produced),
        ("callbacks.model_checkpoint.monitor", during_fit),
        ("regularization.early_stopping.monitor", during_fit),
        ("scheduler.monitor", during_fit),
    ):
        value = c.get(key)
        if isinstance(value, str) and value not in allowed:
            c.fail(key, value, "not a metric this run logs", f"one of {', '.join(allowed)}", closest(value, allowed))


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _creatable(folder: Path) -> str | None:
    """Why `folder` cannot be written to (or made), or None when it can."""
    existing = _nearest_existing(folder.absolute())
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def _paths(c: _Checker) -> None:
    """Folders a run writes to: known before Hydra makes the run dir and before any data loads."""
    log_dir = c.get("paths.log_dir")
    if isinstance(log_dir, str) and (why := _creatable(Path(log_dir))):
        c.problems.append(
            f"paths.log_dir={log_dir}: cannot write run folders there ({why}); run from a writable folder "
            "or set paths.log_dir=<a writable folder>"
        )
    data_dir = c.get("paths.data_dir")
    if isinstance(data_dir, str) and not Path(data_dir).exists() and (why := _creatable(Path(data_dir))):
        c.problems.append(
            f"cannot create the data dir {data_dir} (paths.data_dir; {why}); set TRAINLAB_DATA_DIR to a folder "
            "that holds the data or can be written"
        )
    elif isinstance(data_dir, str) and Path(data_dir).exists() and not Path(data_dir).is_dir():
        c.problems.append(f"the data dir {data_dir} (paths.data_dir) is not a folder; set TRAINLAB_DATA_DIR to one")


def models_using(key: str) -> list[str]:
    """The options of conf/model/ whose config takes `regularization.<key>`, read from the config files."""
    conf = Path(__file__).resolve().parents[3] / "conf" / "model"
    return sorted(
        path.stem
        for path in conf.glob("*.yaml")
        if f"${{regularization.{key}}}" in OmegaConf.to_container(OmegaConf.load(path)).values()
    )


def _model_uses_regularization(c: _Checker) -> None:
    """A regularization switch that acts through the model config must be taken by the chosen model."""
    model = c.cfg.get("model")
    if not isinstance(model, DictConfig):
        return
    taken = {str(written_value(model, k)) for k in model}
    for key, off in choices.MODEL_REGULARIZATION_KEYS.items():
        value = c.get(f"regularization.{key}")
        if value is _ABSENT or value == off or f"${{regularization.{key}}}" in taken:
            continue
        users = models_using(key)
        name = str(model.get("_target_", "this model")).rsplit(".", 1)[-1]
        hint = " (its own dropouts are model.conv_dropout and model.dense_dropout)" if "conv_dropout" in model else ""
        c.problems.append(
            f"regularization.{key}={show(value)} has no effect on {name}{hint}: its config does not take "
            f"regularization.{key}; models that do: {', '.join(f'model={u}' for u in users) or 'none'}"
        )


def _weight_decay(c: _Checker) -> None:
    coupled, decoupled = c.get("optimizer.weight_decay"), c.get("regularization.weight_decay")
    if _is_number(coupled) and _is_number(decoupled) and coupled > 0 and decoupled > 0:
        c.problems.append(
            f"optimizer.weight_decay={show(coupled)} and regularization.weight_decay={show(decoupled)} would both "
            "decay the weights: keep regularization.weight_decay (decoupled, weights only) and set "
            "optimizer.weight_decay=0, or the other way round"
        )


def _data(c: _Checker) -> None:
    c.import_path("data._target_")
    c.number("data.batch_size", 1, integer=True)
    c.number("data.eval_batch_size", 1, integer=True)
    c.choice("data.normalize", choices.NORMALIZE_CHOICES)
    c.number("data.seed", 0, MAX_SEED, integer=True)
    c.number("data.augment_shift", 0, integer=True)
    c.number("data.augment_crop", 0, integer=True)
    c.boolean("data.augment_flip")
    c.custom(
        "data.mirrors",
        lambda v: v is None or (isinstance(v, ListConfig | list) and all(isinstance(m, str) for m in v)),
        "not a list of URLs",
        "a list of base URLs, or null for the official mirrors",
    )
    train_size = choices.TRAIN_SIZES.get(c.get("data._target_"))
    if is_tabular(c.get("data._target_")):
        pass  # a share of the rows or a row count: checked by trainlab.config.tasks
    elif train_size is None:
        c.number("data.val_size", 0, integer=True)
    else:
        c.number("data.val_size", 0, train_size, high_open=True, integer=True)
    _folds(c)


def _folds(c: _Checker) -> None:
    """k-fold CV (`data.folds=k data.fold=i`, trainlab/data/splits.py): k ≥ 2 and 0 ≤ i < k, both or neither."""
    folds, fold = c.get("data.folds"), c.get("data.fold")
    if folds in (None, _ABSENT) and fold in (None, _ABSENT):
        return
    if folds in (None, _ABSENT):
        c.problems.append(f"data.fold={show(fold)} needs data.folds=k (k ≥ 2 folds), or drop data.fold")
    elif not _is_int(folds) or folds < 2:
        c.fail("data.folds", folds, "not a fold count", "an integer ≥ 2, or null for a hold-out split")
    elif fold in (None, _ABSENT):
        c.problems.append(
            f"data.folds={folds} needs data.fold=i (0 ≤ i < {folds}), or experiment=kfold to run every fold"
        )
    elif not _is_int(fold) or not 0 <= fold < folds:
        c.fail("data.fold", fold, "not a fold of data.folds", f"an integer in [0, {folds - 1}] with data.folds={folds}")


def _model(c: _Checker) -> None:
    c.import_path("model._target_")
    c.int_list("model.hidden")
    c.int_list("model.channels")
    c.int_list("model.widths")
    c.number("model.stem", 1, integer=True)
    c.number("model.pool_every", 1, integer=True)
    for key in ("channels_last", "compile", "tta_flip", "tta_translate", "whiten", "bn_weight"):
        c.boolean(f"model.{key}")
    c.number("model.dense", 1, integer=True)
    c.choice("model.activation", choices.ACTIVATIONS)
    c.number("model.negative_slope", 0)
    c.number("model.elu_alpha", 0, low_open=True)
    c.number("model.maxout_pieces", 2, integer=True)
    c.number("model.bn_momentum", 0, 1)
    c.number("model.bn_eps", 0, low_open=True)
    c.number("model.bias_lr_scale", 0, low_open=True)
    for key in ("dropout", "conv_dropout", "dense_dropout"):
        c.number(f"model.{key}", 0, 1, high_open=True)


def _init(c: _Checker) -> None:
    c.choice("init.name", choices.INIT_SCHEMES)
    for key in ("std", "bound", "gain", "tol"):
        c.number(f"init.{key}", 0, low_open=True)
    c.choice("init.mode", choices.FAN_MODES)
    c.choice("init.nonlinearity", (*choices.ACTIVATIONS, "linear"))
    c.number("init.negative_slope", 0)
    c.number("init.max_iter", 1, integer=True)
    c.number("init.batch_size", 1, integer=True)


def _optimizer(c: _Checker) -> None:
    c.import_path("optimizer._target_")
    c.number("optimizer.lr", 0, low_open=True)
    for key in (
        "momentum",
        "beta",
        "eps",
        "weight_decay",
        "alpha",
        "dampening",
        "lr_decay",
        "initial_accumulator_value",
    ):
        c.number(f"optimizer.{key}", 0)
    c.boolean("optimizer.nesterov")
    c.custom(
        "optimizer.betas",
        lambda v: isinstance(v, ListConfig | list) and len(v) == 2 and all(_is_number(b) and 0 <= b < 1 for b in v),
        "not a pair of betas",
        "two numbers in [0, 1), like [0.9,0.999]",
    )


def _scheduler(c: _Checker) -> None:
    c.import_path("scheduler._target_")
    c.choice("scheduler.interval", choices.SCHEDULER_INTERVALS)
    c.number("scheduler.frequency", 1, integer=True)
    c.number("scheduler.step_size", 1, integer=True)
    c.number("scheduler.gamma", 0, low_open=True)
    c.number("scheduler.T_max", 1, integer=True, nullable=True)
    c.number("scheduler.total_steps", 1, integer=True, nullable=True)
    c.number("scheduler.eta_min", 0)
    c.number("scheduler.max_lr", 0, low_open=True)
    c.number("scheduler.pct_start", 0, 1)
    c.number("scheduler.div_factor", 0, low_open=True)
    c.number("scheduler.final_div_factor", 0, low_open=True)
    c.number("scheduler.factor", 0, 1, low_open=True, high_open=True)
    c.number("scheduler.patience", 0, integer=True)
    c.choice("scheduler.mode", choices.MONITOR_MODES)
    c.string("scheduler.monitor")


def _regularization(c: _Checker) -> None:
    for key in ("l1", "l2", "weight_decay"):
        c.number(f"regularization.{key}", 0)
    c.number("regularization.dropout", 0, 1, high_open=True)
    c.number("regularization.label_smoothing", 0, 1, high_open=True)
    c.boolean("regularization.augment")
    c.boolean("regularization.batchnorm")
    c.boolean("regularization.penalize_biases_and_norms")
    c.choice("regularization.batchnorm_order", choices.BATCHNORM_ORDERS)
    penalties = c.get("regularization.penalties")
    if isinstance(penalties, DictConfig):
        for name in penalties:
            c.import_path(f"regularization.penalties.{name}._target_")
    early = c.get("regularization.early_stopping")
    if early is _ABSENT or early is None or early is False:
        return
    if not isinstance(early, DictConfig):
        c.fail("regularization.early_stopping", early, "not a mapping", "null or {monitor: …, patience: …}")
        return
    c.string("regularization.early_stopping.monitor")
    c.number("regularization.early_stopping.patience", 0, integer=True)
    c.number("regularization.early_stopping.min_delta", 0)
    c.choice("regularization.early_stopping.mode", choices.MONITOR_MODES)
    c.number("regularization.early_stopping.stopping_threshold", nullable=True)


def _devices_ok(value: Any) -> bool:
    if value == "auto" or value == -1 or (_is_int(value) and value >= 1):
        return True
    if isinstance(value, ListConfig | list):
        return len(value) > 0 and all(_is_int(v) and v >= 0 for v in value)
    return isinstance(value, str) and re.fullmatch(r"\s*(-1|\d+(\s*,\s*\d+)*\s*,?)\s*", value) is not None


def _batches_ok(value: Any) -> bool:
    """Lightning's limit_*_batches / overfit_batches: a fraction in [0, 1] or a number of batches ≥ 0."""
    return value is None or (_is_int(value) and value >= 0) or (isinstance(value, float) and 0 <= value <= 1)


def _trainer(c: _Checker) -> None:
    c.import_path("trainer._target_")
    c.number("trainer.max_epochs", 1, integer=True, nullable=True, also=(-1,), also_text="-1 (no limit)")
    c.number("trainer.min_epochs", 0, integer=True, nullable=True)
    c.number("trainer.max_steps", -1, integer=True)
    c.number("trainer.min_steps", 0, integer=True, nullable=True)
    c.choice("trainer.precision", choices.PRECISIONS, nullable=True)
    if not isinstance(c.get("trainer.accelerator"), DictConfig):  # an Accelerator given by `_target_` is not checked
        c.choice("trainer.accelerator", choices.ACCELERATORS)
    c.custom(
        "trainer.devices",
        _devices_ok,
        "not a device count",
        "a positive integer, -1 (all), a list of device indices, or auto",
    )
    c.number("trainer.num_nodes", 1, integer=True)
    c.number("trainer.check_val_every_n_epoch", 1, integer=True, nullable=True)
    c.number("trainer.log_every_n_steps", 1, integer=True, nullable=True)
    c.number("trainer.num_sanity_val_steps", -1, integer=True, nullable=True)
    c.number("trainer.accumulate_grad_batches", 1, integer=True)
    c.number("trainer.gradient_clip_val", 0, nullable=True)
    c.choice("trainer.gradient_clip_algorithm", choices.GRADIENT_CLIP_ALGORITHMS, nullable=True)
    c.custom(
        "trainer.val_check_interval",
        lambda v: v is None or (_is_int(v) and v >= 1) or (isinstance(v, float) and 0 < v <= 1),
        "out of range",
        "a fraction of an epoch in (0, 1] (float), a number of batches ≥ 1 (int), or null",
    )
    c.boolean("trainer.detect_anomaly")
    strategy = c.get("trainer.strategy")
    if isinstance(strategy, str) and strategy.startswith(choices.CHILD_PROCESS_STRATEGY_PREFIXES):
        c.problems.append(
            f"trainer.strategy={strategy} is not supported: it trains in processes started after the run's loggers "
            "and signal handling; use trainer=ddp_cpu for DDP on the CPU (trainer.devices=N processes), or "
            "trainer=ddp on GPUs"
        )
    elif strategy is not _ABSENT and not isinstance(strategy, DictConfig):
        c.choice("trainer.strategy", choices.STRATEGIES)
    c.boolean("trainer.deterministic", also=("warn",))
    c.custom(
        "trainer.fast_dev_run",
        lambda v: isinstance(v, bool) or (_is_int(v) and v >= 0),
        "not valid",
        "true, false or a number of batches ≥ 0",
    )
    for key in (
        "limit_train_batches",
        "limit_val_batches",
        "limit_test_batches",
        "limit_predict_batches",
        "overfit_batches",
    ):
        c.custom(
            f"trainer.{key}",
            _batches_ok,
            "out of range",
            "a fraction in [0, 1] (float) or a number of batches ≥ 0 (int)",
        )
    max_epochs, min_epochs = c.get("trainer.max_epochs"), c.get("trainer.min_epochs")
    if _is_int(max_epochs) and _is_int(min_epochs) and max_epochs >= 1 and min_epochs > max_epochs:
        c.fail("trainer.min_epochs", min_epochs, "larger than trainer.max_epochs", f"≤ {max_epochs}")


def _gradcheck(c: _Checker) -> None:
    c.number("gradcheck.samples", 1, integer=True)
    c.number("gradcheck.eps", 0, low_open=True)
    c.number("gradcheck.coords", 1, integer=True, nullable=True)
    c.number("gradcheck.threshold", 0, low_open=True)
    c.number("gradcheck.seed", 0, MAX_SEED, integer=True)


def _tune(c: _Checker) -> None:
    """`tune=lr_find` / `tune=batch_size` (trainlab.tuning)."""
    c.choice("tune.mode", ("lr_find", "batch_size"))
    c.boolean("tune.apply")
    c.number("tune.min_lr", 0, low_open=True)
    c.number("tune.max_lr", 0, low_open=True)
    c.number("tune.num_training", 13, integer=True)  # Lightning's suggestion skips the first 10 and the last step
    c.choice("tune.scale_mode", ("power", "binsearch"))
    for key in ("init_val", "steps_per_trial", "max_trials", "max_val"):
        c.number(f"tune.{key}", 1, integer=True)
    mode = c.get("tune.mode")
    if mode is not _ABSENT and (c.get("resume") is True or c.get("ckpt_path") not in (None, _ABSENT)):
        c.problems.append(f"tune={mode} searches from the initial weights: drop ckpt_path and resume")
    if mode is not _ABSENT and c.get("train") is False:
        c.problems.append(f"tune={mode} with train=false does nothing: drop one of them")
    low, high = c.get("tune.min_lr"), c.get("tune.max_lr")
    if _is_number(low) and _is_number(high) and low >= high:
        c.fail("tune.min_lr", low, "not below tune.max_lr", f"smaller than {show(high)}")


GROUPS: dict[str, Callable[[_Checker], None]] = {
    "": _top,
    "paths": _paths,
    "data": _data,
    "model": _model,
    "init": _init,
    "optimizer": _optimizer,
    "scheduler": _scheduler,
    "regularization": _regularization,
    "trainer": _trainer,
    "gradcheck": _gradcheck,
    "tune": _tune,
    "diagnostics": _diagnostics,
}


def problems(cfg: DictConfig) -> list[str]:
    """Every problem with the values of `cfg` (the groups it has), one message each; empty when it is fine."""
    checker = _Checker(cfg)
    for group, check in GROUPS.items():
        if not group or group in cfg:
            check(checker)
    for across in (
        _metrics,
        _model_uses_regularization,
        _weight_decay,
        check_task,
    ):  # rules that relate keys of two groups
        across(checker)
    return checker.problems


def validate(cfg: DictConfig) -> None:
    """Raise `ConfigError` naming each bad key, its value and what is allowed."""
    found = problems(cfg)
    if found:
        raise ConfigError(found)
