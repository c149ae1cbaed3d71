"""LeanCallback: the batch hooks a callback does not implement are None, so Lightning skips them; the ones it
implements still run on every batch."""

from __future__ import annotations

import lightning as L
import torch
from torch import nn

from trainlab.callbacks.lean import BATCH_HOOKS, LeanCallback


class CountsBatches(LeanCallback):
    def __init__(self) -> None:
        self.batches = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.batches += 1


class Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).square().mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_unimplemented_batch_hooks_are_none_and_implemented_ones_run(tmp_path) -> None:
    callback = CountsBatches()
    assert callable(callback.on_train_batch_end)
    assert all(getattr(callback, hook) is None for hook in BATCH_HOOKS if hook != "on_train_batch_end")
    assert callable(callback.on_train_start)  # other hooks stay Callback's (Lightning calls some of them directly)

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(12, 4)), batch_size=4)
    trainer = L.Trainer(
        max_epochs=2, callbacks=[callback], logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(Tiny(), data)
    assert callback.batches == 6  # 3 batches × 2 epochs: Lightning called the one hook it implements, and no other


def test_the_trainer_skips_the_unused_batch_hooks_of_lightning_callbacks_too(tmp_path) -> None:
    from helpers.config import compose_train
    from lightning.pytorch.callbacks import ModelCheckpoint

    from trainlab.callbacks.progress import LossProgressBar
    from trainlab.training import build_trainer

    trainer = build_trainer(compose_train(output_dir=tmp_path))
    checkpoint = next(c for c in trainer.callbacks if isinstance(c, ModelCheckpoint))
    assert checkpoint.on_before_backward is None and checkpoint.on_train_batch_start is None
    assert callable(checkpoint.on_train_batch_end)  # ModelCheckpoint's own (every_n_train_steps)
    bar = next(c for c in trainer.callbacks if isinstance(c, LossProgressBar))
    assert bar.on_before_zero_grad is None and callable(bar.on_train_batch_end)
