"""docs/architecture.md stays true: its config-group map matches conf/, and each worked example, followed exactly as
written (its files written into a copy of the repo, its command run there as typed), has the effect it describes.

An example's files are the fenced blocks whose info string names them (```` ```python file=src/… ````); its command
is the `python src/…` line of its `bash` block. The slow tests run each command with tiny limits (one epoch of two
batches) from one copy of the repo that holds all four examples.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from helpers.paths import CONF, REPO
from helpers.repo_copy import copy_repo, run_typed
from torch import nn

from trainlab.config.cli import check_overrides

DOC = REPO / "docs" / "architecture.md"
SRC = REPO / "src"
# The examples by their headings, and the one thing each adds.
MODEL, DATA, REGULARIZER, METRIC = "Adding a model", "Adding a data set", "Adding a regularizer", "Adding a metric"
TITLES = (MODEL, DATA, REGULARIZER, METRIC)
TINY = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
]
FENCE = re.compile(r"^```(\w*)(?:\s+file=(\S+))?\s*$")


@dataclass
class Example:
    files: dict[str, str] = field(default_factory=dict)  # path in the repo → content
    commands: list[str] = field(default_factory=list)

    @property
    def command(self) -> str:
        assert len(self.commands) == 1, f"one command per example, found {self.commands}"
        return self.commands[0]


def examples(text: str) -> dict[str, Example]:
    """The worked examples of the doc, by their `### ` heading: files to write and commands to run."""
    found: dict[str, Example] = {}
    current: Example | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            current = None
        elif line.startswith("### "):
            current = found.setdefault(line[4:].strip(), Example())
        elif (fence := FENCE.match(line)) and line != "```":
            end = lines.index("```", i + 1)
            body = lines[i + 1 : end]
            if current is not None and fence.group(2):
                current.files[fence.group(2)] = "\n".join(body) + "\n"
            elif current is not None and fence.group(1) == "bash":
                current.commands += [b.strip() for b in body if b.strip().startswith("python src/")]
            i = end
        i += 1
    return found


EXAMPLES = examples(DOC.read_text())


def group_map(text: str) -> dict[str, str]:
    """The rows of the 'Config group → module' table: group → the cell naming its modules."""
    section = text.split("## Config group → module", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("group", "---"):
            continue
        match = re.fullmatch(r"`([\w/]+)`", cells[0])
        assert match, f"a row names one group in backticks: {line}"
        assert match.group(1) not in rows, f"group {match.group(1)} has two rows"
        rows[match.group(1)] = cells[1]
    return rows


def config_groups() -> set[str]:
    """Every folder of conf/ (a config group), as `a/b` for nested ones."""
    return {p.relative_to(CONF).as_posix() for p in CONF.rglob("*") if p.is_dir() and any(p.glob("*.yaml"))}


def test_group_map_lists_every_config_group_once_and_only_those() -> None:
    listed = set(group_map(DOC.read_text()))
    assert listed == config_groups(), (
        f"in the map, not in conf/: {sorted(listed - config_groups())}; "
        f"in conf/, not in the map: {sorted(config_groups() - listed)}"
    )


def test_group_map_names_modules_that_exist() -> None:
    for group, cell in group_map(DOC.read_text()).items():
        paths = [p for p in re.findall(r"`([^`]+)`", cell) if re.fullmatch(r"[\w/]+(\.py|/)", p)]
        assert paths or cell.startswith("config only"), f"{group}: names no module"
        for path in paths:
            assert (SRC / path).exists(), f"{group}: src/{path} does not exist"


def test_each_file_block_is_named_where_a_reader_sees_it() -> None:
    """The `file=` of a block's info string does not show on a rendered page: the line above the block names it."""
    lines = DOC.read_text().splitlines()
    blocks = [(i, m.group(2)) for i, line in enumerate(lines) if (m := FENCE.match(line)) and m.group(2)]
    assert len(blocks) == 8
    for i, path in blocks:
        above = next(line for line in reversed(lines[:i]) if line.strip())
        assert above == f"`{path}`:", f"line {i + 1}: the block for {path} has {above!r} above it"


def test_parser_reads_files_and_commands() -> None:
    text = "## A\n### Add x\n```python file=src/x.py\nx = 1\n```\n```bash\npython src/train.py a=1\n```\n## B\n"
    assert examples(text) == {"Add x": Example({"src/x.py": "x = 1\n"}, ["python src/train.py a=1"])}


@pytest.mark.parametrize("title", TITLES)
def test_each_example_adds_new_files_and_its_command_composes(title: str, tmp_path: Path, monkeypatch) -> None:
    """Fast: the example's files are new (not already in the repo) and its command composes and validates."""
    example = EXAMPLES[title]
    assert any(p.endswith(".py") for p in example.files) and any(p.endswith(".yaml") for p in example.files)
    for path in example.files:
        assert not (REPO / path).exists(), f"{path} is in the repo already: the example must add it"
    root = write_example(copy_repo(tmp_path / "repo"), example)
    monkeypatch.chdir(root)
    check_overrides("train", root / "conf", shlex.split(example.command)[2:] + TINY)


@pytest.mark.parametrize("title", TITLES)
def test_each_example_passes_the_projects_lint(title: str, tmp_path: Path) -> None:
    """A newcomer who adds the example's code to the repo keeps `ruff check` and `ruff format --check` green."""
    root = write_example(copy_repo(tmp_path / "repo"), EXAMPLES[title])
    code = [p for p in EXAMPLES[title].files if p.endswith(".py")]
    for check in (["check"], ["format", "--check", "--diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "--no-cache", *code], cwd=root, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def write_example(root: Path, example: Example) -> Path:
    for path, content in example.files.items():
        target = root / path
        assert not target.exists(), f"{path} exists in the copy"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return root


def test_regularizer_adds_exactly_the_stated_penalty_to_the_objective(tmp_path: Path, monkeypatch) -> None:
    """The objective of one batch with the new penalty is the cross-entropy plus weight · Σ‖W Wᵀ − I‖²_F over
    the net's weights, computed here by hand; without it, the cross-entropy alone."""
    from hydra import compose, initialize_config_dir

    from trainlab.training import build_model

    example = EXAMPLES[REGULARIZER]
    root = write_example(copy_repo(tmp_path / "repo"), example)
    module_file = next(p for p in example.files if p.endswith(".py"))
    name = module_file.removeprefix("src/").removesuffix(".py").replace("/", ".")
    spec = importlib.util.spec_from_file_location(name, root / module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, name, module)  # what `_target_` imports: the copy's file

    overrides = shlex.split(example.command)[2:]
    with initialize_config_dir(config_dir=str(root / "conf"), version_base="1.3"):
        cfg, plain_cfg = compose("train", overrides=overrides), compose("train", overrides=["regularization=batchnorm"])
        penalties = cfg.regularization.penalties
        assert len(penalties) == 1
        off = compose("train", overrides=[*overrides, f"regularization.penalties.{next(iter(penalties))}=null"])
    weight = next(iter(penalties.values())).weight
    torch.manual_seed(0)
    data = SimpleNamespace(shape=(1, 28, 28), num_classes=10)
    model, plain_model = build_model(cfg, data), build_model(plain_cfg, data)
    assert build_model(off, data).penalty() is None  # `…=null` turns it off, as the doc says
    plain_model.net.load_state_dict(model.net.state_dict())
    x, y = torch.randn(8, 1, 28, 28), torch.arange(8) % 10
    model.train(), plain_model.train()

    by_hand = sum(
        (m.weight @ m.weight.T - torch.eye(m.out_features)).pow(2).sum()
        for m in model.net.modules()
        if isinstance(m, nn.Linear)
    )
    objective, plain_objective = model.objective(x, y), plain_model.objective(x, y)
    assert plain_objective.penalty is None and plain_objective.total == plain_objective.loss
    assert torch.allclose(objective.loss, plain_objective.loss)
    assert torch.allclose(objective.total - objective.loss, weight * by_hand, rtol=1e-5)
    assert weight * by_hand > 1e-3  # large enough to matter: the check above compares something


# -- the documented commands, run as typed -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> Iterator[dict[str, Future]]:
    """Each example's command, run with tiny limits from one copy of the repo that holds every example's files;
    two at a time (each takes one core), since most of a tiny run is starting Python and importing Lightning."""
    root = copy_repo(tmp_path_factory.mktemp("architecture") / "repo")
    for title in TITLES:
        write_example(root, EXAMPLES[title])
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {
        title: pool.submit(
            run_typed, shlex.split(EXAMPLES[title].command) + TINY, root, mnist_dir, env={"OMP_NUM_THREADS": "1"}
        )
        for title in TITLES
    }
    yield futures
    pool.shutdown(wait=True)


def run_example(title: str, runs: dict[str, Future]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The example's run: its metrics.json and its best checkpoint."""
    done = runs[title].result()
    assert done.returncode == 0, done.stderr[-3000:]
    written = re.search(r"^metrics written to (.+)$", done.stdout, re.MULTILINE)
    assert written, done.stdout[-2000:]
    metrics = json.loads(Path(written.group(1)).read_text())
    ckpt = torch.load(metrics["ckpt_best"], map_location="cpu", weights_only=True)
    return metrics, ckpt


@pytest.mark.slow
def test_model_example_trains_lenet5(runs: dict[str, Future]) -> None:
    metrics, ckpt = run_example(MODEL, runs)
    assert ckpt["hyper_parameters"]["net"] == {
        "_target_": "trainlab.models.lenet.LeNet5",
        "activation": "relu",
        "negative_slope": 0.01,
        "batchnorm": False,  # the default recipe has no batch norm
    }
    assert metrics["params/total"] == 61706  # LeNet-5 on 28×28
    assert metrics["status"] == "completed"


@pytest.mark.slow
def test_data_example_builds_the_net_for_stripes(runs: dict[str, Future]) -> None:
    metrics, ckpt = run_example(DATA, runs)
    assert ckpt["hyper_parameters"]["in_shape"] == [1, 16, 16]
    assert ckpt["hyper_parameters"]["num_classes"] == 3
    assert ckpt["datamodule_hyper_parameters"]["_target_"] == "trainlab.data.stripes.StripesDataModule"
    counts = metrics["test/class_counts"]
    assert set(counts) == {"horizontal", "vertical", "diagonal"} and sum(counts.values()) == 600
    # The default MLP (256, 256), without batch norm: 256 inputs, every Linear layer with its bias.
    assert metrics["params/total"] == (256 * 256 + 256) + (256 * 256 + 256) + (256 * 3 + 3)


@pytest.mark.slow
def test_regularizer_example_logs_its_penalty(runs: dict[str, Future]) -> None:
    metrics, ckpt = run_example(REGULARIZER, runs)
    assert set(ckpt["hyper_parameters"]["regularization"]["penalties"]) == {"orthogonality"}
    assert metrics["train/penalty"] > 0  # not logged at all without a penalty


@pytest.mark.slow
def test_metric_example_reports_the_mean_confidence(runs: dict[str, Future]) -> None:
    metrics, _ = run_example(METRIC, runs)
    for stage in ("val", "test"):
        assert 0.1 <= metrics[f"{stage}/confidence"] <= 1
        assert f"{stage}/acc" in metrics
