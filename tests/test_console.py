"""The console, as a user reads it in a log file and in a terminal: one line per epoch, a progress bar only in a
terminal, a compact config and net summary, no ads or harmless warnings, and no empty run dir after an early error.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios
import time
from pathlib import Path

import lightning as L
import pytest
import torch
from helpers import runner
from helpers.paths import REPO
from helpers.repo_copy import copy_repo, run_typed
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from trainlab.callbacks import progress
from trainlab.callbacks.epoch_line import EpochLine
from trainlab.callbacks.net_summary import summary_text
from trainlab.callbacks.progress import LossProgressBar
from trainlab.models import MLP
from trainlab.outputs import parameter_counts

SLICE = [
    "trainer.max_epochs=2",
    "++trainer.limit_train_batches=20",
    "++trainer.limit_val_batches=2",
    "++trainer.limit_test_batches=2",
]
EPOCH_LINE = re.compile(
    r"^epoch (\d+)/2  train/loss (\S+)  train/acc (\S+)  val/loss (\S+)  val/acc (\S+)  \d+\.\ds$", re.MULTILINE
)
NOISE = ("Tip", "litlogger", "DeprecationWarning", "deprecated", "FLOPs", "EpochMeans", "already configured", "v_num")


def repo_copy(tmp_path: Path) -> Path:
    """src/ and conf/ in a temporary folder: runs there use the default paths (logs/… under it)."""
    return copy_repo(tmp_path / "repo")


def train_in(root: Path, *overrides: str, data_dir: Path) -> subprocess.CompletedProcess:
    return run_typed(["python", "src/train.py", *overrides], root, data_dir)


def run_dirs(root: Path) -> list[Path]:
    runs = root / "logs" / "train" / "runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


def test_a_piped_run_prints_one_line_per_epoch_and_nothing_to_skip(tmp_path: Path, mnist_dir: Path) -> None:
    root = repo_copy(tmp_path)
    done = train_in(root, *SLICE, data_dir=mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    (run_dir,) = run_dirs(root)  # default paths: logs/train/runs/<time> under the folder it ran from
    metrics = json.loads((run_dir / "metrics.json").read_text())

    epochs = EPOCH_LINE.findall(done.stdout)
    assert [int(e[0]) for e in epochs] == [1, 2], done.stdout
    last = dict(zip(("train/loss", "train/acc", "val/loss", "val/acc"), map(float, epochs[-1][1:]), strict=True))
    for key, value in last.items():  # the last line shows what the run reports
        assert value == pytest.approx(metrics[key], abs=1e-4), key

    assert "\r" not in output  # no progress-bar redraws in a file or a pipe
    assert not [word for word in NOISE if word in output], output
    assert len(output.encode()) < 4000, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), output  # no line twice

    # The config in a few lines: the chosen options and the overrides; the full one stays in the run dir.
    assert done.stdout.startswith("train: task=multiclass data=mnist model=mlp init=default optimizer=adam"), (
        done.stdout[:500]
    )
    assert f"overrides: {' '.join(SLICE)}" in done.stdout
    assert "_target_" not in done.stdout and (run_dir / ".hydra" / "config.yaml").is_file()

    # The net's layers and parameter counts, also in metrics.json; the final table keeps the whole checkpoint path.
    net = MLP(in_shape=[1, 28, 28], num_classes=10, hidden=[256, 256])  # the default recipe: no batch norm
    total = sum(p.numel() for p in net.parameters())
    assert metrics["params/total"] == metrics["params/trainable"] == total
    assert f"net MLP: {total:,} parameters ({total:,} trainable)" in done.stdout
    first = re.escape("Linear(in_features=784, out_features=256, bias=True)")
    assert re.search(rf"^  layers\.1  {first} +200,960$", done.stdout, re.M)
    assert metrics["ckpt_best"].startswith(str(run_dir)) and metrics["ckpt_best"] in done.stdout

    # The epoch lines are in the run's log file too.
    assert len(EPOCH_LINE.findall(re.sub(r"^\[.*?\] - ", "", (run_dir / "train.log").read_text(), flags=re.M))) == 2


def test_a_terminal_run_shows_the_bar_with_the_running_loss(tmp_path: Path, mnist_dir: Path, cache_dir: Path) -> None:
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a 120-column terminal
    run_dir = tmp_path / "run"
    env = runner.environment({"TRAINLAB_DATA_DIR": str(mnist_dir)})
    cmd = runner.command("train", ["print_config=false", *SLICE, f"paths.cache_dir={cache_dir}"], run_dir=run_dir)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=child, stderr=child)
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=600) == 0
    os.close(main)
    output = b"".join(chunks).decode(errors="replace")
    assert "\r" in output and re.search(r"epoch 2/2: +\d+%\|", output), output[-3000:]  # the bar, redrawn
    assert re.search(r"loss=\d\.\d{4}\]", output), output[-3000:]
    lines = output.replace("\r\n", "\n").split("\n")
    epoch_lines = [EPOCH_LINE.match(line.split("\r")[-1]) for line in lines]
    assert [m.group(1) for m in epoch_lines if m] == ["1", "2"], output[-3000:]  # whole lines, above the bar


def test_a_run_that_fails_before_training_leaves_no_run_dir(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    empty = tmp_path / "no_data"
    empty.mkdir()
    refused = "data.mirrors=[http://127.0.0.1:9/]"  # nothing listens there: the download fails at once
    done = train_in(root, refused, data_dir=empty)
    assert done.returncode == 2, done.stderr[-3000:]
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert "TRAINLAB_DATA_DIR" in error
    assert len(done.stdout.splitlines()) + len(done.stderr.splitlines()) <= 10, done.stdout + done.stderr
    assert (root / "logs" / "train" / "runs").is_dir() and run_dirs(root) == []

    # A folder given with hydra.run.dir that held files before is kept as it was.
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine\n")
    os.utime(kept / "notes.txt", (time.time() - 60, time.time() - 60))
    done = train_in(root, refused, f"hydra.run.dir={kept}", data_dir=empty)
    assert done.returncode == 2
    assert (kept / "notes.txt").read_text() == "mine\n" and (kept / ".hydra").is_dir()


def test_the_epoch_line_shows_this_epochs_metrics() -> None:
    line = EpochLine(keys=["train/loss", "train/acc", "val/acc"])
    metrics = {"train/loss": torch.tensor(0.07123), "train/acc": torch.tensor(0.97812), "val/acc": torch.tensor(0.976)}
    line._validated = True
    assert line.line(2, 8, metrics, 2.14) == "epoch 3/8  train/loss 0.0712  train/acc 0.9781  val/acc 0.9760  2.1s"
    line._validated = False  # no validation this epoch: its old values are not shown as this epoch's
    assert line.line(3, -1, metrics, None) == "epoch 4  train/loss 0.0712  train/acc 0.9781"


def test_the_net_summary_lists_layers_to_max_depth() -> None:
    net = MLP(in_shape=[1, 28, 28], num_classes=10, hidden=[32])
    lines = summary_text(net).splitlines()
    assert lines[0] == "net MLP: 25,450 parameters (25,450 trainable)"
    assert [line.split()[0] for line in lines[1:]] == ["layers.0", "layers.1", "layers.2", "layers.3"]
    assert lines[2].split()[-1] == "25,120"  # Linear(784 → 32)
    folded = summary_text(net, max_depth=1).splitlines()
    assert folded[1].split() == ["layers", "Sequential()", "25,450"]


def test_parameter_counts_tell_frozen_parameters_apart() -> None:
    net = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    net[0].requires_grad_(False)
    assert parameter_counts(net) == {"params/total": 23, "params/trainable": 8}


class Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def fit_tiny(bar: LossProgressBar, batches: int = 25) -> None:
    data = DataLoader(TensorDataset(torch.randn(batches, 2), torch.randn(batches, 1)), batch_size=1)
    trainer = L.Trainer(
        max_epochs=1,
        callbacks=[bar],
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(Tiny(), data)


def test_the_bar_reads_the_loss_only_when_it_redraws(monkeypatch) -> None:
    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    bar = LossProgressBar(refresh_rate=10)
    fit_tiny(bar)
    assert bar.is_enabled
    assert bar._loss_reads == 3  # batches 10, 20 and the last (25): not one read per step
    assert "loss" in bar.get_metrics(bar.trainer, bar.trainer.lightning_module)


def test_no_bar_when_stdout_is_not_a_terminal(monkeypatch, capsys) -> None:
    monkeypatch.setattr(progress, "is_terminal", lambda: False)
    bar = LossProgressBar(refresh_rate=1)
    fit_tiny(bar)
    assert not bar.is_enabled and bar._loss_reads == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.out + captured.err and "it/s" not in captured.out + captured.err


def test_trainer_flags_follow_the_callbacks_group(monkeypatch) -> None:
    monkeypatch.setattr(progress, "is_terminal", lambda: False)
    # callbacks=none in a log file: Lightning's own bar is off too; its default model summary is never added.
    assert progress.console_flags([], {}) == {"enable_model_summary": False, "enable_progress_bar": False}
    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    assert progress.console_flags([], {}) == {"enable_model_summary": False, "enable_progress_bar": True}
    assert progress.console_flags([LossProgressBar()], {}) == {"enable_model_summary": False}
    assert progress.console_flags([], {"enable_model_summary": True, "enable_progress_bar": False}) == {}


def test_the_terminal_table_folds_a_long_path_instead_of_cutting_it(monkeypatch, capsys, tmp_path) -> None:
    from trainlab import outputs

    monkeypatch.setattr(outputs, "is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "60")
    path = "/very/long/folder/" * 6 + "epoch_002.ckpt"
    outputs.print_summary("trainlab: final metrics", {"test/acc": 0.98, "ckpt_best": path}, tmp_path / "m.json")
    out = capsys.readouterr().out
    assert "…" not in out
    assert "".join(
        line.strip("│ ") for line in out.splitlines() if "/" in line and "metrics written" not in line
    ).endswith("epoch_002.ckpt")
