"""Other names for group options, registered with Hydra: `init=he` composes `conf/init/he_normal.yaml`.

The names come from `choices.INIT_ALIASES`, the one alias list; each becomes an option of the `init` group whose
config is just a defaults list naming its target, so an alias composes exactly what its target does (and
`init.name` always holds the scheme's own name).
"""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from trainlab.config.choices import INIT_ALIASES


def register_aliases() -> None:
    """Register every alias as a Hydra option (idempotent: storing the same node twice replaces it)."""
    store = ConfigStore.instance()
    for alias, target in INIT_ALIASES.items():
        store.store(group="init", name=alias, node={"defaults": [target]})
