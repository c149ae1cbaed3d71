"""Test a checkpoint: `python src/eval.py ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt`; an ensemble:
`ckpt_path=[a.ckpt,b.ckpt]` or `ckpt_path=logs/train/multiruns/<sweep>` (each job's best checkpoint)."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from trainlab.config.cli import check_command_line, run_reporting_errors
from trainlab.config.run_dirs import register_resolver
from trainlab.diagnostics.drawer import start as start_drawing
from trainlab.gc_freeze import freeze_imported_objects, pause_collection

register_resolver()  # `${trainlab_run_dir:…}` in conf/hydra/default.yaml: the run dir, reused by resume=true

CONF = Path(__file__).resolve().parent.parent / "conf"


@hydra.main(version_base="1.3", config_path="../conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    def task() -> None:
        pause_collection()  # until freeze_imported_objects: no full collections during the imports
        from trainlab.hardware import check_accelerator

        check_accelerator(cfg.trainer.accelerator, cfg.trainer.devices)
        start_drawing()  # confusion.png: matplotlib loads in the drawing process while torch loads here
        from trainlab.evaluation import evaluate_checkpoints

        freeze_imported_objects()  # torch's and Lightning's millions of objects: out of the collector's way
        evaluate_checkpoints(cfg)  # one checkpoint, or an ensemble: a list of them or a sweep dir

    run_reporting_errors(task, cfg)  # cfg is validated first, before torch loads


if __name__ == "__main__":
    check_command_line("eval", CONF)  # a bad override: one line and exit 2, before Hydra runs
    main()
