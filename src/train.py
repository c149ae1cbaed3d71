"""Train a network: `python src/train.py model=mlp init=he regularization=dropout`."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from trainlab.config.cli import check_command_line, run_reporting_errors
from trainlab.config.run_dirs import register_resolver
from trainlab.diagnostics.drawer import start as start_drawing
from trainlab.gc_freeze import freeze_imported_objects, pause_collection
from trainlab.resume import check_before_hydra

register_resolver()  # `${trainlab_run_dir:…}` in conf/hydra/default.yaml: the run dir, reused by resume=true

CONF = Path(__file__).resolve().parent.parent / "conf"


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    def task() -> float | None:
        pause_collection()  # until freeze_imported_objects: no full collections during the imports
        # Imported here, after Hydra has composed the config: a bad request fails before torch/lightning load.
        from trainlab.hardware import check_accelerator

        check_accelerator(cfg.trainer.accelerator, cfg.trainer.devices)
        if not cfg.get("tune") and (cfg.get("test", True) or cfg.diagnostics.get("curves")):
            start_drawing()  # the run draws PNGs: matplotlib loads in the drawing process while torch loads here
        from trainlab.training import train

        freeze_imported_objects()  # torch's and Lightning's millions of objects: out of the collector's way
        if not cfg.train:  # train=false ckpt_path=<file>: test that checkpoint only, exactly as src/eval.py does
            from trainlab.checkpoints import load_checkpoint
            from trainlab.evaluation import evaluate

            return evaluate(cfg, load_checkpoint(cfg.ckpt_path)).get(cfg.optimized_metric)
        return train(cfg).get(cfg.optimized_metric)

    return run_reporting_errors(task, cfg)  # cfg is validated first, before torch loads


if __name__ == "__main__":
    check_command_line("train", CONF)  # a bad override: one line and exit 2, before Hydra runs
    check_before_hydra("train", CONF)  # resuming: a conflicting change (exit 2) or nothing left to train (exit 0)
    main()
