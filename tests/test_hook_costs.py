"""hook_costs: the cheaper `_current_fx_name` attribute and pass-through profiler change no behaviour."""

from __future__ import annotations

from pathlib import Path

import torch
from helpers.config import compose_train
from lightning.pytorch.profilers import SimpleProfiler

from trainlab.classifier import Classifier
from trainlab.hook_costs import NoProfiler
from trainlab.training import build_trainer

NET = {"_target_": "trainlab.models.MLP", "hidden": [4]}


def test_the_hook_name_is_a_plain_attribute_and_modules_still_register() -> None:
    model = Classifier(NET, [3], 2, {"_target_": "torch.optim.SGD", "lr": 0.1}, metrics={})
    model._current_fx_name = "training_step"
    assert model.__dict__["_current_fx_name"] == "training_step" and model._current_fx_name == "training_step"
    model.extra = torch.nn.Linear(2, 2)  # every other attribute still goes through nn.Module
    model.scale = torch.nn.Parameter(torch.ones(1))
    assert "extra" in model._modules and "scale" in model._parameters
    assert "_current_fx_name" not in model.state_dict()


def test_no_profiler_is_used_unless_one_is_asked_for(tmp_path: Path) -> None:
    profiler = build_trainer(compose_train(output_dir=tmp_path)).profiler
    assert isinstance(profiler, NoProfiler)
    with profiler.profile("outer"), profiler.profile("inner"):  # nests, as Lightning's hook calls do
        pass
    asked = build_trainer(compose_train(["debug=profiler"], output_dir=tmp_path / "asked")).profiler
    assert isinstance(asked, SimpleProfiler)


def test_step_signatures_are_cached_as_lightning_reads_them() -> None:
    import inspect

    from lightning.pytorch.utilities.signature_utils import is_param_in_hook_signature

    model = Classifier(NET, [3], 2, {"_target_": "torch.optim.SGD", "lr": 0.1}, metrics={})
    assert Classifier.training_step.__signature__ == inspect.signature(Classifier.training_step)
    assert is_param_in_hook_signature(model.training_step, "batch_idx", min_args=2)

    class NoIndex(Classifier):  # an override gets its own signature: Lightning then passes no batch_idx
        def training_step(self, batch):
            return super().training_step(batch, 0)

    assert "__signature__" in NoIndex.training_step.__dict__
    assert not is_param_in_hook_signature(NoIndex(NET, [3], 2, {}, metrics={}).training_step, "batch_idx", min_args=2)
