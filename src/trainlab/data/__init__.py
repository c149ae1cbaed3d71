"""Data sets held in memory as uint8 tensors, batched by indexing."""

from trainlab.data.idx import DataFileError
from trainlab.data.in_memory import InMemoryDataModule
from trainlab.data.mnist import MNISTDataModule

__all__ = ["DataFileError", "InMemoryDataModule", "MNISTDataModule"]
