"""CIFAR-10 speed: (a) images/s of each conv net's training step on the CPU, trainlab against a plain PyTorch loop;
(b) on a CUDA GPU, `experiment=cifar10_94`'s whole run (time and test accuracy per seed).

(a) Both sides train the same net (the model's config, `regularization=batchnorm`) with SGD + momentum on the same
batches of one `CIFAR10DataModule` (same split, scaling and shuffle), in this one process, in alternating rounds
so machine noise hits both alike. trainlab runs as `python src/train.py` would (default callbacks, CSV logger),
timed from the first to the last training batch of its epoch (validation off); the plain loop is forward,
cross-entropy, backward and step. One unmeasured round warms both up first. Medians over the rounds.

    TRAINLAB_DATA_DIR=../shared/data python benchmarks/cifar10.py --rounds 5
    TRAINLAB_DATA_DIR=../shared/data python benchmarks/cifar10.py --gpu-seeds 5     # part (b), on a GPU machine
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback

from trainlab.diagnostics import plots
from trainlab.training import build_model, build_trainer

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["cnn", "resnet", "fast_cnn", "plain_cnn"]


class StepTimer(Callback):
    """Wall time from the start of the first training batch's epoch to the end of its last training batch."""

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        self.seconds = time.perf_counter() - self.start


def compose_config(run_dir: str, model: str, batch_size: int, steps: int):
    overrides = [
        "data=cifar10",
        f"model={model}",
        "optimizer=momentum",
        "scheduler=none",
        f"data.batch_size={batch_size}",
        "trainer.max_epochs=1",
        f"++trainer.limit_train_batches={steps}",
        "++trainer.limit_val_batches=0",
        "trainer/accelerator=cpu",
    ]
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    cfg.paths.output_dir = run_dir
    cfg.paths.root_dir = str(ROOT)
    cfg.paths.cache_dir = str(Path(tempfile.gettempdir()) / "trainlab-bench-cache")  # nothing into the repo tree
    del cfg.hydra
    return cfg


def trainlab_seconds(cfg) -> float:
    L.seed_everything(0, verbose=False)
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    trainer = build_trainer(cfg)
    timer = StepTimer()
    trainer.callbacks.append(timer)
    trainer.fit(model, datamodule=datamodule)
    plots.wait()  # the PNGs of this fit are written before the temporary run dir goes
    return timer.seconds


def plain_seconds(cfg) -> float:
    L.seed_everything(0, verbose=False)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    net = build_model(cfg, datamodule).net
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.optimizer.lr, momentum=cfg.optimizer.momentum)
    steps = cfg.trainer.limit_train_batches
    net.train()
    start = time.perf_counter()
    for step, (x, y) in enumerate(datamodule.train_dataloader()):
        if step == steps:
            break
        loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def cpu_table(models: list[str], batch_size: int, steps: int, rounds: int) -> None:
    print(f"(a) CPU: batch {batch_size}, {steps} steps per run, {rounds} alternating rounds (after one warm-up)")
    print("model       plain img/s  trainlab img/s  ratio (trainlab time / plain time, medians)")
    for name in models:
        with tempfile.TemporaryDirectory() as run_dir:
            cfg = compose_config(run_dir, name, batch_size, steps)
            plain, ours = [], []
            for i in range(rounds + 1):
                p, t = plain_seconds(cfg), trainlab_seconds(cfg)
                if i:  # round 0 warms up both sides
                    plain.append(p)
                    ours.append(t)
        images = batch_size * steps
        p, t = statistics.median(plain), statistics.median(ours)
        print(f"{name:<11} {images / p:11.1f} {images / t:15.1f}  {t / p:.3f}", flush=True)
        print(f"  plain s: {' '.join(f'{x:.2f}' for x in plain)}  trainlab s: {' '.join(f'{x:.2f}' for x in ours)}")


def gpu_runs(seeds: int) -> None:
    """`python src/train.py experiment=cifar10_94 trainer/accelerator=gpu seed=N`: whole-command time, fit time and
    test accuracy per seed (run dirs in a temporary folder)."""
    if not torch.cuda.is_available():
        print("(b) GPU: not measured: no GPU available")
        return
    print(f"(b) GPU: {torch.cuda.get_device_name()}, experiment=cifar10_94, seeds 0..{seeds - 1}")
    accs, fits = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            run_dir = Path(tmp) / f"seed{seed}"
            cmd = [sys.executable, "src/train.py", "experiment=cifar10_94", "trainer/accelerator=gpu", f"seed={seed}"]
            cmd += [f"hydra.run.dir={run_dir}", "print_config=false"]
            start = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            whole = time.perf_counter() - start
            metrics = json.loads((run_dir / "metrics.json").read_text())
            accs.append(metrics["test/acc"])
            fits.append(metrics["fit_seconds"])
            acc, fit = metrics["test/acc"], metrics["fit_seconds"]
            print(f"seed {seed}: test/acc {acc:.4f}  fit {fit:.1f} s  whole command {whole:.1f} s")
    print(f"mean test/acc {statistics.mean(accs):.4f}, median fit {statistics.median(fits):.1f} s")


def airbench_runs(seeds: int) -> None:
    """The airbench94 baseline on the same GPU and the same CIFAR-10 arrays: `airbench.train94()` per seed, timed
    from the start of training (whitening init included) to the end of its test-time-augmented evaluation, as
    airbench times itself. The package is not a trainlab dependency: `pip install airbench` to run this part."""
    if not torch.cuda.is_available():
        return
    try:
        import airbench
    except ImportError:
        print("airbench94: not run (pip install airbench, then run this script again)")
        return
    from trainlab.data.cifar10 import CIFAR10DataModule

    data_dir = os.environ.get("TRAINLAB_DATA_DIR", ROOT / "data")
    module = CIFAR10DataModule(data_dir=data_dir, cache_dir=ROOT / "data/cache")
    data, names = module.load(), list(module.classes)
    print(f"airbench94 {getattr(airbench, '__version__', '')}: same GPU, same arrays, seeds 0..{seeds - 1}")
    accs, times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cifar10"  # airbench reads ./cifar10/{train,test}.pt (NHWC uint8) when they exist
        folder.mkdir()
        for split in ("train", "test"):
            images = data[f"{split}_images"].permute(0, 2, 3, 1).contiguous()
            torch.save({"images": images, "labels": data[f"{split}_labels"], "classes": names}, folder / f"{split}.pt")
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            test_loader = airbench.CifarLoader("cifar10", train=False, batch_size=2000)
            airbench.warmup94(verbose=False)  # compiles kernels and warms the GPU up, as airbench's README says
            for seed in range(seeds):
                torch.manual_seed(seed)
                torch.cuda.synchronize()
                start = time.perf_counter()
                model = airbench.train94(verbose=False)
                acc = airbench.evaluate(model, test_loader, tta_level=2)
                torch.cuda.synchronize()
                seconds = time.perf_counter() - start
                accs.append(acc)
                times.append(seconds)
                print(f"seed {seed}: test/acc {acc:.4f}  train + TTA eval {seconds:.2f} s")
        finally:
            os.chdir(cwd)
    print(f"airbench94 mean test/acc {statistics.mean(accs):.4f}, median time {statistics.median(times):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=MODELS, choices=MODELS)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=6, help="training steps per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of plain and trainlab runs")
    parser.add_argument("--gpu-seeds", type=int, default=5)
    args = parser.parse_args()
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)  # the Trainer's banners, once per run, would bury the table
    warnings.filterwarnings("ignore")  # e.g. "monitored key val/acc not found": validation is off on purpose
    threads = torch.get_num_threads()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus ({threads} torch threads), ",
        end="",
    )
    print(f"torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if args.models:
        cpu_table(args.models, args.batch_size, args.steps, args.rounds)
    gpu_runs(args.gpu_seeds)
    airbench_runs(args.gpu_seeds)


if __name__ == "__main__":
    main()
