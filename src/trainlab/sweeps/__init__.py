"""trainlab's Optuna sweeps: the search space, the study's storage, the sweep loop, and the job's side of a trial.

The Hydra plugin (`hydra_plugins.trainlab_optuna_sweeper`) is a thin shell around `sweeper.OptunaSweeper`; the
modules here hold the logic, each with one job:

- `search_space`: `hydra.sweeper.params` (interval, int(interval), tag(log, …), choice, range, plain values) →
  Optuna distributions and fixed overrides;
- `storage`: where the study lives (an SQLite file in the sweep dir by default, a Journal file, any RDB URL);
- `pruners`: `hydra.sweeper.pruner` → an Optuna pruner (the jobs build the same one);
- `sweeper`: the sweep loop (ask a batch, launch it, tell the results, stop on too many failures);
- `results`: the best trial, printed and written to `optimization_results.yaml`;
- `trial`: inside a job, the trial it runs and the Lightning callback that reports to it and prunes;
- `threads`: each job's torch thread count, so parallel jobs never oversubscribe the cores.

Only `trial` and `threads` run inside jobs; nothing here imports torch at module level except `trial`'s callback.
"""
