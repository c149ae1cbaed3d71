"""Diagnostics that explain a run, each a small Lightning callback built by `build.diagnostics_callbacks` from the
`diagnostics` config group (`conf/diagnostics/default.yaml`), whatever the `callbacks` group:

- `curves.LearningCurves`: the per-epoch history (metrics.json `history`), `curves.png`, and at the end of fit the
  bias/variance verdict of `verdict.diagnose` on the errors `fit_errors.measure` takes;
- `gradients.GradientFlow`: per-layer gradient norms and update/weight ratios every few steps, a warning for
  vanishing or exploding gradients, `gradients.png`, and `train/grad_norm`, `train/update_ratio` per epoch;
- `activations.ActivationMonitor`: per-layer activation mean/std and saturation (dead ReLUs, flat sigmoid/tanh
  ends), `activations.png`;
- `ewma.LossEWMA`: the bias-corrected moving average of the training loss, `train/loss_ewma`;
- `steps.StepCount`: steps per epoch and in all (s = n·e/b), printed once at the start.

Plots are drawn by `plots.py`, which alone imports matplotlib (only when a plot is written).
"""
