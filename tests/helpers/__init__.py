"""Support code shared by the tests: paths, config composition, the one subprocess runner, in-process training,
fake MNIST files, test-only callbacks and the offline W&B reader.

Importable as `helpers` because pyproject.toml puts `tests/` on pytest's `pythonpath`; subprocesses get the same
folder on PYTHONPATH from `helpers.runner`, so configs can name `helpers.probes.<Callback>`.
"""
