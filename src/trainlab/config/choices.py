"""The names a config may choose from: one list each, shared by the config validation and the code that uses them.

Torch-free and Lightning-free on purpose: `trainlab.config.validation` checks a command against these lists before
anything heavy is imported, and the models, init schemes and data modules import the same lists.
"""

from __future__ import annotations

# model.activation (trainlab.models.activations.make_activation)
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout", "gelu", "silu")

# init.name (trainlab.init.initialize), and the aliases it accepts
INIT_SCHEMES = (
    "default",
    "zeros",
    "normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "orthogonal",
    "lsuv",
)
# Other names of init options (`init=he`), registered as Hydra options by trainlab.config.aliases.
INIT_ALIASES = {"xavier": "xavier_normal", "he": "he_normal", "kaiming": "he_normal"}
FAN_MODES = ("fan_in", "fan_out")

# data.normalize (trainlab.data.in_memory.input_scaling)
NORMALIZE_CHOICES = ("standardize", "minmax", "symmetric", "none")

# Training-set size of each data module (by its `_target_`): data.val_size must be smaller.
TRAIN_SIZES = {
    "trainlab.data.MNISTDataModule": 60000,
    "trainlab.data.mnist.MNISTDataModule": 60000,
    "trainlab.data.CIFAR10DataModule": 50000,
    "trainlab.data.cifar10.CIFAR10DataModule": 50000,
}

# regularization.batchnorm_order
BATCHNORM_ORDERS = ("before_activation", "after_activation")

# trainer.precision: what lightning.Trainer accepts (lightning.fabric.plugins.precision.precision._PRECISION_INPUT).
PRECISIONS = (
    "transformer-engine",
    "transformer-engine-float16",
    "16-true",
    "16-mixed",
    "bf16-true",
    "bf16-mixed",
    "32-true",
    "64-true",
    "64",
    "32",
    "16",
    "bf16",
    64,
    32,
    16,
)

# trainer.accelerator: Lightning's names (trainer/accelerator=<option> sets it with matching devices).
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")

# scheduler.interval: when Lightning steps the scheduler.
SCHEDULER_INTERVALS = ("step", "epoch")
MONITOR_MODES = ("min", "max")

# matmul_precision (torch.set_float32_matmul_precision)
MATMUL_PRECISIONS = ("highest", "high", "medium")

# What a training run logs (trainlab.classifier.Classifier): the metrics `optimized_metric` and the monitors of
# checkpointing, early stopping and the plateau scheduler may name. train/penalty only with an l1 or l2 penalty;
# test/* only after testing (test=true), so they are never available to monitors during fit.
FIT_METRICS = ("train/loss", "train/acc", "train/lr", "val/loss", "val/acc", "val/acc_best")
PENALTY_METRIC = "train/penalty"

# trainer.strategy names Lightning knows (lightning.pytorch.strategies.StrategyRegistry) and "auto". The spawn,
# fork and notebook launchers run training in child processes, away from the run's signal handling, metrics.json
# and loggers: trainlab refuses them and names trainer=ddp_cpu / trainer=ddp (which start the processes first).
STRATEGIES = (
    "auto",
    "ddp",
    "ddp_find_unused_parameters_false",
    "ddp_find_unused_parameters_true",
    "deepspeed",
    "deepspeed_stage_1",
    "deepspeed_stage_2",
    "deepspeed_stage_2_offload",
    "deepspeed_stage_3",
    "deepspeed_stage_3_offload",
    "deepspeed_stage_3_offload_nvme",
    "fsdp",
    "fsdp_cpu_offload",
    "single_device",
    "single_tpu",
    "single_xla",
    "xla",
    "xla_debug",
)
CHILD_PROCESS_STRATEGY_PREFIXES = ("ddp_spawn", "ddp_fork", "ddp_notebook")

# trainer.gradient_clip_algorithm (lightning.pytorch.utilities.GradClipAlgorithmType)
GRADIENT_CLIP_ALGORITHMS = ("norm", "value")

# Regularization keys that act through the model's own config (a key of conf/model/<name>.yaml set to
# `${regularization.<key>}`), with the value at which they are off.
MODEL_REGULARIZATION_KEYS = {"dropout": 0.0, "batchnorm": False}
