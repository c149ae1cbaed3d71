"""Config validation: bad invocations fail in about a second, before torch loads, with one line naming the key.

The table runs each command as a subprocess with PYTHONPROFILEIMPORTTIME=1 (Python's `-X importtime`), so the
test sees which modules it imported: a config error must come back before torch or lightning is imported.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest
from helpers import runner
from helpers.config import GROUPS, compose_config, compose_train, options
from helpers.paths import CONF

from trainlab.config import choices
from trainlab.config.validation import ConfigError, problems, validate

# (script, overrides, what the one error line must contain). Every row exits with 2.
BAD = [
    ("train", ["regularization.dropuot=0.3"], ["regularization.dropuot", "did you mean regularization.dropout?"]),
    ("train", ["regularizaton.dropout=0.3"], ["regularizaton", "did you mean regularization?"]),
    ("train", ["modle=cnn"], ["modle", "did you mean model?"]),
    ("train", ["trainer.benchmark=true"], ["trainer.benchmark", "++trainer.benchmark=true"]),
    ("train", ["model=mlpp"], ["model=mlpp", "available: cnn, fast_cnn, mlp,", "did you mean model=mlp?"]),
    ("train", ["init=hee"], ["init=hee", "xavier_uniform", "did you mean init=he?"]),
    ("train", ["trainer/accelerator=tpux"], ["trainer/accelerator=tpux", "auto, cpu, gpu, mps"]),
    ("train", ["model.hidden=[256"], ["model.hidden=[256", "cannot parse"]),
    ("train", ["init=xavier,he"], ["init=xavier,he", "--multirun"]),
    ("train", ["regularization.dropout=1.5"], ["regularization.dropout=1.5 is out of range", "[0, 1)"]),
    ("train", ["regularization.dropout=abc"], ["regularization.dropout=abc is not a number", "[0, 1)"]),
    ("train", ["model=cnn", "model.conv_dropout=1"], ["model.conv_dropout=1", "[0, 1)"]),
    ("train", ["optimizer.lr=0"], ["optimizer.lr=0 is out of range", "> 0"]),
    ("train", ["optimizer.lr=-1e-3"], ["optimizer.lr=-0.001", "> 0"]),
    ("train", ["optimizer.betas=[0.9,1.5]"], ["optimizer.betas=[0.9,1.5]", "[0, 1)"]),
    ("train", ["data.batch_size=0"], ["data.batch_size=0", "integer ≥ 1"]),
    ("train", ["data.batch_size=1.5"], ["data.batch_size=1.5 is not an integer"]),
    ("train", ["data.val_size=60000"], ["data.val_size=60000", "[0, 60000)"]),
    ("train", ["data.val_size=-1"], ["data.val_size=-1", "[0, 60000)"]),
    ("train", ["data.normalize=zscore"], ["data.normalize=zscore", "standardize, minmax, symmetric, none"]),
    ("train", ["model.activation=relux"], ["model.activation=relux", "did you mean relu?"]),
    ("train", ["model.hidden=[256,-3]"], ["model.hidden=[256,-3]", "integers ≥ 1"]),
    ("train", ["model=cnn", "model.maxout_pieces=1"], ["model.maxout_pieces=1", "≥ 2"]),
    ("train", ["init=normal", "init.std=0"], ["init.std=0", "> 0"]),
    ("train", ["init=he", "init.mode=fan_avg"], ["init.mode=fan_avg", "fan_in, fan_out"]),
    ("train", ["regularization.l2=-1"], ["regularization.l2=-1", "≥ 0"]),
    ("train", ["regularization=weight_decay", "regularization.weight_decay=-0.1"], ["regularization.weight_decay"]),
    ("train", ["regularization.label_smoothing=1.0"], ["regularization.label_smoothing=1.0", "[0, 1)"]),
    ("train", ["scheduler=step", "scheduler.step_size=0"], ["scheduler.step_size=0", "≥ 1"]),
    ("train", ["scheduler.interval=batch"], ["scheduler.interval=batch", "step, epoch"]),
    ("train", ["trainer.max_epochs=0"], ["trainer.max_epochs=0", "≥ 1, or -1"]),
    ("train", ["trainer.max_epochs=two"], ["trainer.max_epochs=two is not an integer"]),
    ("train", ["trainer.precision=15"], ["trainer.precision=15", "bf16-mixed"]),
    ("train", ["trainer.accelerator=quantum"], ["trainer.accelerator=quantum", "cpu"]),
    ("train", ["trainer.devices=0"], ["trainer.devices=0", "auto"]),
    ("train", ["seed=-1"], ["seed=-1", "[0, 4294967295]"]),
    ("train", ["-m", "optimizer.lr=1e-3,-1"], ["optimizer.lr=-1", "> 0"]),
    ("train", ["hydra.mode=MULTIRUN", "optimizer.lr=1e-3,-1"], ["optimizer.lr=-1", "> 0"]),
    ("eval", ["ckpt_path=missing.ckpt", "data.eval_batch_size=0"], ["data.eval_batch_size=0"]),
    # Switches that would do nothing, or something else than asked: refused, naming what would work.
    ("train", ["model=cnn", "regularization=dropout"], ["regularization.dropout=0.2", "model=mlp", "dense_dropout"]),
    (
        "train",
        ["optimizer=adamw", "optimizer.weight_decay=0.1", "regularization=weight_decay"],
        ["optimizer.weight_decay=0.1", "regularization.weight_decay=0.01", "optimizer.weight_decay=0"],
    ),
    ("train", ["optimized_metric=val/accc"], ["optimized_metric=val/accc", "val/acc_best", "did you mean val/acc?"]),
    ("train", ["test=false", "optimized_metric=test/acc"], ["optimized_metric=test/acc", "val/acc_best"]),
    ("train", ["optimized_metric=train/penalty"], ["optimized_metric=train/penalty", "not a metric"]),
    ("train", ["callbacks.model_checkpoint.monitor=test/acc"], ["callbacks.model_checkpoint.monitor=test/acc"]),
    ("train", ["regularization=early_stopping", "regularization.early_stopping.monitor=val/los"], ["val/loss?"]),
    ("train", ["rung=deep"], ["rung=deep", "add experiment=mnist_ladder", "+rung=deep"]),  # a group only it uses
    (  # ∇E → 0 needs the gradient monitor, which diagnostics=none switches off
        "train",
        ["regularization=early_stopping", "regularization.early_stopping.monitor=train/grad_norm", "diagnostics=none"],
        ["regularization.early_stopping.monitor=train/grad_norm", "not a metric this run logs"],
    ),
    (
        "train",
        ["regularization=early_stopping", "regularization.early_stopping.stopping_threshold=low"],
        ["regularization.early_stopping.stopping_threshold=low is not a number"],
    ),
    # Paths known before Hydra makes the run dir or any data loads.
    ("train", ["ckpt_path=missing.ckpt"], ["ckpt_path=missing.ckpt: no such file", "checkpoints/"]),
    ("train", ["paths.log_dir=/dev/null/logs"], ["paths.log_dir=/dev/null/logs", "/dev/null is not a folder"]),
    ("train", ["paths.data_dir=/dev/null/data"], ["cannot create the data dir /dev/null/data", "TRAINLAB_DATA_DIR"]),
    # Trainer keys and strategies.
    ("train", ["++trainer.strategy=ddp_spawn"], ["trainer.strategy=ddp_spawn", "trainer=ddp_cpu"]),
    ("train", ["trainer.strategy=dpp"], ["trainer.strategy=dpp", "did you mean ddp?"]),
    ("train", ["trainer.gradient_clip_algorithm=nrm"], ["trainer.gradient_clip_algorithm=nrm", "norm, value"]),
    ("train", ["trainer.val_check_interval=1.5"], ["trainer.val_check_interval=1.5", "(0, 1]"]),
    # lightning-hydra-template habits.
    ("train", ["trainer=gpu"], ["trainer=gpu", "trainer/accelerator=gpu"]),
    ("train", ["trainer=cpu"], ["trainer=cpu", "trainer/accelerator=cpu"]),
    ("train", ["trainer=mps"], ["trainer=mps", "trainer/accelerator=mps"]),
    ("train", ["tags=baseline"], ["tags=baseline", "tags=[mlp,baseline]"]),
    ("train", ["train=false"], ["train=false", "ckpt_path=<file>.ckpt"]),
    ("gradcheck", ["gradcheck.eps=0"], ["gradcheck.eps=0", "> 0"]),
    ("gradcheck", ["model.activation=sigmoidd"], ["model.activation=sigmoidd", "did you mean sigmoid?"]),
]
# Hardware requests need torch to count devices; they still stop before Lightning and the data load.
HARDWARE = [
    ("train", ["trainer/accelerator=gpu"], ["trainer/accelerator=gpu", "no CUDA GPU", "trainer/accelerator=cpu"]),
    ("train", ["trainer/accelerator=mps"], ["trainer/accelerator=mps", "no Apple MPS device"]),
    ("train", ["trainer/accelerator=gpu", "trainer.devices=4"], ["no CUDA GPU"]),
    ("train", ["trainer.accelerator=tpu"], ["trainer.accelerator=tpu", "torch_xla"]),
]

IMPORT_LINE = re.compile(r"^import time:\s*\d+ \|\s*\d+ \|(\s*)(\S+)$")


def run(
    script: str, overrides: list[str], tmp_path: Path, env: dict | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = runner.run(runner.command(script, overrides, run_dir=tmp_path / "run"), env=env, timeout=120)
    return done, time.perf_counter() - start


def imported(stderr: str) -> set[str]:
    """Top-level packages a run imported, from the PYTHONPROFILEIMPORTTIME lines on stderr."""
    return {m.group(2).split(".")[0] for line in stderr.splitlines() if (m := IMPORT_LINE.match(line))}


def message_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("import time:")]


def check_one_line(done: subprocess.CompletedProcess, needles: list[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    (line,) = message_lines(done.stderr)
    assert line.startswith("error: ")
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


@pytest.mark.parametrize(
    ("script", "overrides", "needles"), BAD, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_bad_invocation_fails_fast_with_one_line(script, overrides, needles, tmp_path: Path) -> None:
    done, seconds = run(script, overrides, tmp_path, env={"PYTHONPROFILEIMPORTTIME": "1"})
    check_one_line(done, needles)
    heavy = imported(done.stderr) & {"torch", "lightning", "pytorch_lightning", "torchmetrics"}
    assert not heavy, f"imported {heavy} before reporting a config error"
    assert seconds < 15, f"took {seconds:.1f} s"  # about 0.5 s on an idle 2-core machine
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").rglob("*.ckpt"))


@pytest.mark.parametrize("group", GROUPS)
def test_every_group_refuses_an_unknown_option_and_lists_its_options(group: str) -> None:
    from trainlab.config.cli import check_overrides
    from trainlab.config.errors import UserError

    with pytest.raises(UserError) as err:
        check_overrides("train", CONF, [f"{group}=no_such_option"])
    message = str(err.value)
    assert message.startswith(f"{group}=no_such_option") and f"available: {', '.join(options(group))}" in message


@pytest.mark.parametrize(
    ("script", "overrides", "needles"), HARDWARE, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_hardware_request_the_machine_cannot_meet(script, overrides, needles, tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has an accelerator")
    done, _ = run(script, overrides, tmp_path, env={"PYTHONPROFILEIMPORTTIME": "1"})
    check_one_line(done, needles)
    assert "lightning" not in imported(done.stderr)


def test_hydra_full_error_shows_the_traceback(tmp_path: Path) -> None:
    done, _ = run("train", ["regularization.dropout=1.5"], tmp_path, env={"HYDRA_FULL_ERROR": "1"})
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "ConfigError" in done.stderr and "regularization.dropout=1.5" in done.stderr


def test_cfg_job_prints_the_config_even_with_values_a_run_would_refuse(tmp_path: Path) -> None:
    done, _ = run("train", ["--cfg=job", "regularization.dropout=1.5"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "dropout: 1.5" in done.stdout


def test_validation_and_cli_do_not_import_torch() -> None:
    code = (
        "import sys, trainlab.config.cli, trainlab.config.validation, trainlab.config.choices; "
        "import trainlab.config.run_dirs, trainlab.resume; "
        "heavy = {'torch', 'lightning'} & {m.split('.')[0] for m in sys.modules}; "
        "assert not heavy, heavy"
    )
    done = runner.run(runner.python_code(code))
    assert done.returncode == 0, done.stderr[-3000:]


# -- in-process: every shipped option validates clean; messages; the lists match what the libraries accept -------


@pytest.mark.parametrize(
    "override", [f"{group}={option}" for group in GROUPS for option in options(group)], ids=lambda o: o
)
def test_every_shipped_option_is_valid(override: str) -> None:
    needed = {"data=csv": ["data.path=table.csv", "data.target=label"]}.get(override, [])  # the user's own file
    assert problems(compose_train([override, *needed])) == []


@pytest.mark.parametrize("config", ["eval", "gradcheck"])
def test_other_entry_configs_are_valid(config: str) -> None:
    assert problems(compose_config(config)) == []


def test_all_problems_are_reported_at_once() -> None:
    cfg = compose_train(["optimizer.lr=0", "data.batch_size=0", "regularization.dropout=1.5"])
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert len(err.value.problems) == 3
    # an interpolated copy (model.dropout: ${regularization.dropout}) is not reported a second time
    assert [p.split("=")[0] for p in err.value.problems] == [
        "data.batch_size",
        "optimizer.lr",
        "regularization.dropout",
    ]


def test_accepted_edge_values() -> None:
    ok = [
        "trainer.max_epochs=-1",
        "regularization.dropout=0",
        "data.val_size=0",
        "data.val_size=59999",
        "trainer.precision=bf16-mixed",
        "trainer.precision=16",
        "trainer.devices=[0,1]",
        "trainer.deterministic=warn",
        "++trainer.limit_train_batches=0.1",
        "++trainer.limit_val_batches=3",
        "seed=null",
        "trainer.gradient_clip_val=1.0",
        "trainer.val_check_interval=0.25",
        "trainer.strategy=ddp",
        "tags=[a,b]",
    ]
    assert problems(compose_train(ok)) == []
    # Metrics that exist only with their switch on, and the model that takes the switch.
    assert problems(compose_train(["regularization=l2", "optimized_metric=train/penalty"])) == []
    assert problems(compose_train(["optimized_metric=val/loss", "regularization=dropout"])) == []
    assert problems(compose_train(["model=cnn", "regularization=batchnorm"])) == []
    assert problems(compose_train(["optimizer=adamw", "regularization=weight_decay"])) == []


def test_produced_metrics_are_what_a_run_logs(train_run) -> None:
    """The list `optimized_metric` is checked against is the run's own: a quick run logs exactly those metrics."""
    from trainlab.config.validation import produced_metrics

    overrides = ["regularization=l1", "trainer.max_epochs=1", "trainer.limit_train_batches=2"]
    overrides += ["trainer.limit_val_batches=1", "trainer.limit_test_batches=1", "print_config=false"]
    metrics = train_run(*overrides)
    # Scalars only: params/* are counts, diagnosis/* the verdict's inputs; the per-class tables and the
    # worst-confused pairs are not metrics to optimize.
    logged = {k for k, v in metrics.items() if "/" in k and isinstance(v, float)}
    logged = {k for k in logged if not k.startswith(("params/", "diagnosis/"))}
    assert logged == set(produced_metrics(compose_train(overrides)))


def test_precisions_are_lightnings() -> None:
    from lightning.fabric.plugins.precision.precision import _PRECISION_INPUT

    accepted = {v for literal in get_args(_PRECISION_INPUT) for v in get_args(literal)}
    assert set(choices.PRECISIONS) == accepted


def accepts(build: Callable[[], object]) -> bool:
    try:
        build()
    except ValueError:
        return False
    return True


def test_the_code_accepts_exactly_the_names_the_validator_lists() -> None:
    """The validator checks names against `choices` before torch loads; the code must take the same names and
    refuse their neighbours (other torch activations, other init names), so a name added on one side fails here."""
    import torch
    from torch import nn

    from trainlab.data.in_memory import input_scaling
    from trainlab.init import initialize
    from trainlab.models.activations import make_activation

    activations = {*choices.ACTIVATIONS, "softplus", "relu6", "hardtanh", "mish", "swish", "selu", "prelu"}
    assert {n for n in activations if accepts(lambda n=n: make_activation(n))} == set(choices.ACTIVATIONS)
    # Aliases (init=he) are config options resolved at composition; init.name and the code take the schemes only.
    listed_inits = set(choices.INIT_SCHEMES)
    inits = {*listed_inits, *choices.INIT_ALIASES, "glorot", "glorot_uniform", "kaiming_uniform", "identity"}
    batch = torch.randn(8, 3)
    assert {n for n in inits if accepts(lambda n=n: initialize(nn.Linear(3, 2), n, batch=batch))} == listed_inits
    # Every scaling is its own (scale, shift): a choice the code does not know would fall through to "none".
    images = torch.randint(0, 256, (16, 1, 2, 2), dtype=torch.uint8)
    scalings = {tuple(torch.cat(input_scaling(images, n)).tolist()) for n in choices.NORMALIZE_CHOICES}
    assert len(scalings) == len(choices.NORMALIZE_CHOICES)


def test_more_devices_than_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from trainlab.config.errors import UserError
    from trainlab.hardware import check_accelerator

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    check_accelerator("gpu", 1)
    check_accelerator("gpu", -1)
    check_accelerator("gpu", "auto")
    check_accelerator("gpu", [0])
    with pytest.raises(UserError, match=r"trainer.devices=2: asks for 2 CUDA GPU\(s\), but this machine has 1"):
        check_accelerator("gpu", 2)
    with pytest.raises(UserError, match="no CUDA GPU with index 3"):
        check_accelerator("cuda", [0, 3])
    with pytest.raises(UserError, match=r"no CUDA GPU with index 1 \(this machine has 1: index 0\)"):
        check_accelerator("gpu", "0,1")
    with pytest.raises(UserError, match="asks for 3"):
        check_accelerator("gpu", "3")


def test_our_error_wrapped_by_instantiate_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A UserError raised in a constructor reaches the user through Hydra's InstantiationException: still one line."""
    from hydra.utils import instantiate

    from trainlab.config.cli import run_reporting_errors

    table = {"_target_": "trainlab.data.tabular.CSVDataModule", "path": "t.csv", "target": "y", "folds": 3}

    def task() -> None:
        instantiate({**table, "data_dir": ".", "cache_dir": "."})

    with pytest.raises(SystemExit) as exited:
        run_reporting_errors(task)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: data.folds=3: k-fold cross-validation is for the image sets; tables split by data.val_size"
    ]


def test_a_reference_to_a_key_the_net_lacks_is_one_problem_naming_it() -> None:
    """init=he reads `${model.activation}`: a net of your own whose config lacks it is told so before any work,
    not with Hydra's InterpolationKeyError traceback mid-run."""
    assert problems(compose_train(["init=he"])) == []
    assert problems(compose_train(["init=he", "~model.negative_slope"])) == [
        "init.negative_slope=${model.negative_slope} refers to model.negative_slope, which this config does not have: "
        "add it to the model config (conf/model/<option>.yaml) or pass ++model.negative_slope=<value>"
    ]
