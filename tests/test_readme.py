"""Every `python src/…` command in README.md runs as written: from a temporary copy of the repo, default paths.

The commands come from the README's code blocks (continuation lines joined) and its table cells. Each is run as a
user would type it, with tiny limits put in place of (or after) its own epoch and batch counts, so that the whole
README runs in minutes (`pytest -m slow`). Commands that cannot run here are listed in SKIPPED with the reason;
placeholders (`<run>`, `<run dir>`) are filled with a run made first. The error examples (`$ python …` followed by
`error: …`) must print exactly that line. The fast suite checks that every command composes and validates, and
runs the error examples.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.fake_tables import data_dir_with_tables
from helpers.paths import CONF, REPO
from helpers.repo_copy import copy_repo, run_typed

from trainlab.config.cli import check_overrides

README = REPO / "README.md"
# Put in place of a command's own values (or appended): one epoch of two batches, one batch of val and test.
TINY = {
    "trainer.max_epochs": "1",
    "trainer.limit_train_batches": "2",
    "trainer.limit_val_batches": "1",
    "trainer.limit_test_batches": "1",
}
# Commands this machine cannot run, by a piece of their text, and why.
SKIPPED = {
    "trainer/accelerator=gpu trainer.precision": "needs a CUDA GPU",
    "experiment=cifar10_94 trainer/accelerator=gpu": "needs a CUDA GPU",
    "trainer=ddp trainer.devices=4": "needs 4 CUDA GPUs",
    "hydra/launcher=slurm": "needs a SLURM cluster (sbatch)",
}
# Commands that another test runs exactly as typed (from a repo copy, default paths) and checks more closely.
RUN_ELSEWHERE = {
    "-m 'experiment=glob(*)'": "run as typed by test_habits.py::test_glob_sweep_runs_every_saved_experiment",
}
EXTRAS = {"hydra/launcher=parallel": "hydra_plugins.hydra_joblib_launcher", "logger=mlflow": "mlflow"}
# Entry points without Hydra overrides (no tiny limits; `<date_time>`: the newest sweep made before them).
PLAIN_SCRIPTS = {"src/report.py"}
RUN_NAME = "2000-01-01_00-00-00_000000"  # the run the placeholders name (made by the `made_run` fixture)


@dataclass(frozen=True)
class Command:
    text: str  # as written in the README
    error: str | None = None  # for an error example: the line it must print

    @property
    def script(self) -> str:
        return self.text.split()[1]


def readme_commands(text: str | None = None) -> list[Command]:
    """Every `python src/…` command of the README's code blocks and tables, in order, each once."""
    lines = (text or README.read_text()).splitlines()
    found: list[Command] = []
    in_block = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_block = not in_block
        elif in_block:
            while line.endswith("\\") and i + 1 < len(lines):  # a command continued on the next line
                i += 1
                line = line[:-1].rstrip() + " " + lines[i].strip()
            example = line.startswith("$ python src/")
            if example or line.startswith("python src/"):
                error = lines[i + 1] if example and i + 1 < len(lines) and lines[i + 1].startswith("error: ") else None
                found.append(Command(strip_comment(line.removeprefix("$ ")), error))
        elif line.startswith("|"):
            found += [Command(c) for c in re.findall(r"`(python src/[^`]+)`", line)]
        i += 1
    return list(dict.fromkeys(found))


def strip_comment(line: str) -> str:
    """The command without its trailing `# comment` (the README writes them after spaces, as ` # …`)."""
    return re.sub(r"\s+#\s.*$", "", line).strip()


def with_run(text: str) -> str:
    """Placeholders filled with the run made by `made_run`."""
    return text.replace("<run dir>", f"logs/train/runs/{RUN_NAME}").replace("<run>", RUN_NAME)


def tiny(argv: list[str]) -> list[str]:
    """`argv` with the TINY limits in place of its own values of those keys, the rest appended (src/predict.py has
    no Trainer: as it is)."""
    if any(arg.endswith("src/predict.py") for arg in argv[:2]):
        return argv
    out, done = [], set()
    for arg in argv:
        key = arg.split("=", 1)[0].lstrip("+")
        if key in TINY and "=" in arg:
            out.append(f"{arg.split('=', 1)[0]}={TINY[key]}")
            done.add(key)
        else:
            out.append(arg)
    return out + [f"{k}={v}" for k, v in TINY.items() if k not in done]


def skip_reason(command: Command) -> str | None:
    for piece, reason in {**SKIPPED, **RUN_ELSEWHERE}.items():
        if piece in command.text:
            return reason
    for piece, module in EXTRAS.items():
        if piece in command.text and importlib.util.find_spec(module) is None:
            return f"needs {module} (pip install -e '.[dev]')"
    return None


COMMANDS = readme_commands()
EXAMPLES = [c for c in COMMANDS if c.error]
RUNS = [c for c in COMMANDS if not c.error]


def test_the_readme_has_commands_of_every_kind() -> None:
    scripts = {c.script for c in COMMANDS}
    assert scripts == {"src/train.py", "src/eval.py", "src/gradcheck.py", "src/predict.py", "src/report.py"}
    assert len(RUNS) > 60 and len(EXAMPLES) >= 5
    assert any("-m " in c.text for c in RUNS) and any("<run" in c.text for c in RUNS)


def test_parser_joins_continuations_and_drops_comments() -> None:
    text = "```bash\npython src/train.py a=1 \\\n    b=2   # why\n$ python src/eval.py c=3\nerror: bad\n```\n"
    text += "| x | `python src/gradcheck.py d=4` (and more) |\n"
    assert readme_commands(text) == [
        Command("python src/train.py a=1 b=2"),
        Command("python src/eval.py c=3", "error: bad"),
        Command("python src/gradcheck.py d=4"),
    ]
    assert tiny(["python", "x.py", "trainer.max_epochs=100", "++trainer.limit_train_batches=0.1"]) == [
        "python",
        "x.py",
        "trainer.max_epochs=1",
        "++trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1",
    ]


@pytest.mark.parametrize("command", RUNS, ids=lambda c: c.text)
def test_every_command_composes_and_validates(command: Command, tmp_path: Path, monkeypatch) -> None:
    """Fast: each command's overrides compose and pass validation (a placeholder checkpoint stands in)."""
    if command.script in PLAIN_SCRIPTS:
        pytest.skip(f"{command.script} takes no Hydra overrides (it runs in the slow test)")
    monkeypatch.chdir(tmp_path)
    ckpt = tmp_path / "logs" / "train" / "runs" / RUN_NAME / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")
    (ckpt.parent / "epoch_000.ckpt").write_bytes(b"")  # the best of the made run, one epoch long
    argv = tiny(shlex.split(with_run(command.text)))
    check_overrides(Path(command.script).stem, CONF, argv[2:])


@pytest.mark.parametrize("command", EXAMPLES, ids=lambda c: c.text)
def test_error_examples_print_what_the_readme_shows(command: Command, tmp_path: Path, mnist_dir: Path) -> None:
    import torch

    expected = command.error or ""
    if "no CUDA GPU" in expected:
        if torch.cuda.is_available():
            pytest.skip("this machine has a CUDA GPU")
        expected = re.sub(r"PyTorch \S+", f"PyTorch {torch.__version__}", expected)
    root = copy_repo(tmp_path / "repo")
    done = run_typed(command.text, root, mnist_dir)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stderr.strip() == expected


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> Path:
    """One copy of the repo for the README's commands, with the run the placeholders name already made."""
    root = copy_repo(tmp_path_factory.mktemp("readme") / "repo")
    made = run_typed(
        ["python", "src/train.py", f"hydra.run.dir=logs/train/runs/{RUN_NAME}", *tiny([])], root, mnist_dir
    )
    assert made.returncode == 0, made.stderr[-3000:]
    import numpy as np

    np.save(root / "digits.npy", np.zeros((2, 28, 28), dtype=np.uint8))  # the images src/predict.py is shown with
    return root


@pytest.mark.slow
@pytest.mark.xdist_group("readme")  # in the README's order, on one worker: a later command reads an earlier's runs
@pytest.mark.parametrize("command", RUNS, ids=lambda c: c.text)
def test_every_readme_command_runs(command: Command, repo: Path, mnist_dir: Path) -> None:
    if reason := skip_reason(command):
        pytest.skip(reason)
    argv = shlex.split(with_run(command.text))
    if command.script in PLAIN_SCRIPTS:  # a sweep dir to read: the newest one the README's commands made
        sweeps = sorted((repo / "logs" / "train" / "multiruns").glob("*"))
        assert sweeps, f"{command.text}: no sweep ran before it"
        argv = [a.replace("<date_time>", sweeps[-1].name) for a in argv]
    else:
        argv = tiny(argv)
    data = data_dir_with_tables(repo.parent / "data", mnist_dir)  # experiment=titanic and boston read a CSV there
    try:
        done = run_typed(argv, repo, data, timeout=900, env={"WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"})
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command.text} ran over 15 minutes with tiny limits")
    assert done.returncode == 0, f"{shlex.join(argv)}\n{done.stderr[-3000:]}"
