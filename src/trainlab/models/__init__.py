"""Plain `nn.Module` networks; the LightningModule that trains them lives in `trainlab.classifier`."""

from trainlab.models.cnn import CNN
from trainlab.models.mlp import MLP

__all__ = ["CNN", "MLP"]
