"""Exact mid-epoch resume: give the train loader its saved position even when Lightning would drop it.

Lightning saves the state of a train loader that has `state_dict`/`load_state_dict` (our `TensorBatches`) in the
checkpoint, and loads it back only when it builds the loader after restoring the loops. A LightningModule whose
`configure_optimizers` asks for `trainer.estimated_stepping_batches` (the cosine schedule's whole-run T_max does)
makes Lightning build the loader earlier, before the restore, and the saved position is silently dropped: the
resumed epoch would start over from its first batch. This callback loads it at `on_train_start`, after the restore
and before the first batch is drawn (the batcher only reads its position when the epoch's first batch is asked
for). Lightning's own loader does nothing when there is no saved state or it was loaded already.
"""

from __future__ import annotations

import lightning as L

from trainlab.callbacks.lean import LeanCallback


class RestoreLoaderPosition(LeanCallback):
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.fit_loop._load_combined_loader_states()
