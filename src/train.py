"""Train a network: `python src/train.py model=mlp init=he regularization=dropout`."""

import hydra
from omegaconf import DictConfig

from trainlab.cli import run_reporting_errors
from trainlab.resume import register_resolver

register_resolver()  # `${trainlab_run_dir:…}` in conf/hydra/default.yaml: the run dir, reused by resume=true


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    def task() -> float | None:
        # Imported here, after Hydra has composed the config: a bad request fails before torch/lightning load.
        from trainlab.hardware import check_accelerator

        check_accelerator(cfg.trainer.accelerator, cfg.trainer.devices)
        from trainlab.training import train

        return train(cfg).get(cfg.optimized_metric)

    return run_reporting_errors(task)


if __name__ == "__main__":
    main()
