"""Data sets held in memory as uint8 tensors, batched by indexing."""

from trainlab.data.cifar10 import CIFAR10DataModule
from trainlab.data.idx import DataFileError
from trainlab.data.in_memory import InMemoryDataModule
from trainlab.data.mnist import MNISTDataModule

__all__ = ["CIFAR10DataModule", "DataFileError", "InMemoryDataModule", "MNISTDataModule"]
