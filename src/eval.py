"""Test a checkpoint: `python src/eval.py ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt`."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from trainlab.config.cli import check_command_line, run_reporting_errors
from trainlab.config.run_dirs import register_resolver

register_resolver()  # `${trainlab_run_dir:…}` in conf/hydra/default.yaml: the run dir, reused by resume=true

CONF = Path(__file__).resolve().parent.parent / "conf"


@hydra.main(version_base="1.3", config_path="../conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    def task() -> None:
        from trainlab.checkpoints import load_checkpoint
        from trainlab.hardware import check_accelerator

        checkpoint = load_checkpoint(cfg.get("ckpt_path"))
        check_accelerator(cfg.trainer.accelerator, cfg.trainer.devices)
        from trainlab.evaluation import evaluate

        evaluate(cfg, checkpoint)

    run_reporting_errors(task, cfg)  # cfg is validated first, before torch loads


if __name__ == "__main__":
    check_command_line("eval", CONF)  # a bad override: one line and exit 2, before Hydra runs
    main()
