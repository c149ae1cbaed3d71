"""The torch-free layer that runs before anything heavy: command-line check, validation, choices, errors, run dirs.

Nothing here may import torch or Lightning: a bad command fails in well under a second.
"""

from trainlab.config.aliases import register_aliases

register_aliases()  # before any config is composed: entry points, the command-line check and tests alike
