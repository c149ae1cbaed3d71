"""Predict new inputs: `python src/predict.py ckpt_path=<run>/checkpoints/<file>.ckpt inputs=<images.npy or folder>`
writes `predictions.csv` (each input's top-1 class and class probabilities) in the run dir; several checkpoints
(`ckpt_path=[a.ckpt,b.ckpt]`, or a sweep dir) predict as an ensemble."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from trainlab.config.cli import check_command_line, run_reporting_errors
from trainlab.config.run_dirs import register_resolver
from trainlab.gc_freeze import freeze_imported_objects, pause_collection

register_resolver()  # `${trainlab_run_dir:…}` in conf/hydra/default.yaml

CONF = Path(__file__).resolve().parent.parent / "conf"


@hydra.main(version_base="1.3", config_path="../conf", config_name="predict")
def main(cfg: DictConfig) -> None:
    def task() -> None:
        pause_collection()  # until freeze_imported_objects: no full collections during the imports
        from trainlab.prediction import predict  # torch loads only for a valid request

        freeze_imported_objects()  # torch's and Lightning's millions of objects: out of the collector's way
        predict(cfg)

    run_reporting_errors(task, cfg)  # cfg is validated first, before torch loads


if __name__ == "__main__":
    check_command_line("predict", CONF)  # a bad override: one line and exit 2, before Hydra runs
    main()
