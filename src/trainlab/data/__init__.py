"""Data sets held in memory as tensors (images as uint8, tables as float), batched by indexing."""

from trainlab.data.cifar10 import CIFAR10DataModule
from trainlab.data.idx import DataFileError
from trainlab.data.in_memory import InMemoryDataModule
from trainlab.data.mnist import MNISTDataModule
from trainlab.data.sklearn_sets import SklearnDataModule
from trainlab.data.tabular import CSVDataModule

__all__ = [
    "CIFAR10DataModule",
    "CSVDataModule",
    "DataFileError",
    "InMemoryDataModule",
    "MNISTDataModule",
    "SklearnDataModule",
]
