"""Data sets held in memory as uint8 tensors, batched by indexing."""

from trainlab.data.datamodule import InMemoryDataModule
from trainlab.data.idx import DataFileError
from trainlab.data.mnist import MNISTDataModule

__all__ = ["DataFileError", "InMemoryDataModule", "MNISTDataModule"]
