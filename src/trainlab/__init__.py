"""trainlab: study why networks generalize, one config switch at a time."""

__version__ = "0.1.0"
