"""StopOnNonFiniteLoss: the first non-finite step is reported, at once (one CPU) or at the next read of the
device flag (every `check_every` steps, and at the epoch end), and no update is made from it when checked at once."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from trainlab.callbacks.divergence import NonFiniteLoss, StopOnNonFiniteLoss
from trainlab.classifier import Classifier
from trainlab.data.batches import TensorBatches

NET = {"_target_": "trainlab.models.MLP", "hidden": [4], "activation": "tanh"}
SGD = {"_target_": "torch.optim.SGD", "lr": 0.1}
BAD_STEP = 3


class GoesNaN(Classifier):
    """A Classifier whose loss is NaN from optimizer step BAD_STEP on."""

    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        return loss * float("nan") if self.global_step >= BAD_STEP else loss


def fit(callback: StopOnNonFiniteLoss, seen: list) -> NonFiniteLoss:
    torch.manual_seed(0)
    model = GoesNaN(NET, [1, 2, 2], 3, SGD)

    class Record(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, *args) -> None:
            seen.append((trainer.global_step, [p.detach().clone() for p in pl_module.parameters()]))

    x = torch.randint(0, 256, (100, 1, 2, 2), dtype=torch.uint8)
    batches = TensorBatches(x, torch.randint(0, 3, (100,)), 10, torch.tensor([1 / 255]), torch.tensor([0.0]))
    trainer = L.Trainer(
        max_epochs=2,
        accelerator="cpu",
        logger=False,
        callbacks=[callback, Record()],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    with pytest.raises(NonFiniteLoss) as caught:
        trainer.fit(model, batches)
    return caught.value


def test_checked_every_step_stops_before_updating_from_the_bad_loss() -> None:
    seen: list = []
    err = fit(StopOnNonFiniteLoss(), seen)
    assert (err.step, err.epoch) == (BAD_STEP, 0) and err.value != err.value  # NaN
    assert seen[-1][0] == BAD_STEP  # stopped in the very step whose loss was NaN
    assert f"at step {BAD_STEP} (epoch 0)" in str(err)


def test_checked_every_k_steps_reports_the_first_bad_step_at_the_next_read() -> None:
    seen: list = []
    err = fit(StopOnNonFiniteLoss(check_every=5), seen)
    assert (err.step, err.value) == (BAD_STEP, None)
    assert seen[-1][0] == 4  # the flag is read after step 4 (steps 0-4 make the first five)


def test_checked_at_the_epoch_end_when_k_exceeds_the_epoch() -> None:
    seen: list = []
    err = fit(StopOnNonFiniteLoss(check_every=50), seen)
    assert err.step == BAD_STEP
    assert seen[-1][0] == 9  # all 10 steps of epoch 0 ran; the epoch-end read found step 3
