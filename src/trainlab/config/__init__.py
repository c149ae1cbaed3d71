"""The torch-free layer that runs before anything heavy: command-line check, validation, choices, errors, run dirs.

Nothing here may import torch or Lightning: a bad command fails in well under a second.
"""
