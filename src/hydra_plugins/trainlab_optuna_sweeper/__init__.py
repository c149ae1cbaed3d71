"""trainlab's Optuna sweeper as a Hydra plugin (Hydra finds it in the `hydra_plugins` namespace package).

Select it with `defaults: [override /hydra/sweeper: optuna]` (conf/hydra/sweeper/optuna.yaml); the logic lives in
`trainlab.sweeps`.
"""
