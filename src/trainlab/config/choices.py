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
TRAIN_SIZES = {"trainlab.data.MNISTDataModule": 60000, "trainlab.data.mnist.MNISTDataModule": 60000}

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
