"""Starting from a checkpoint of another net is refused in one line (not a load_state_dict traceback)."""

from __future__ import annotations

import pytest
import torch

from trainlab.checkpoints import check_same_net
from trainlab.config.errors import UserError

MLP = {"_target_": "trainlab.models.MLP", "hidden": [256, 256], "activation": "relu"}


def saved(tmp_path, net: dict) -> str:
    path = tmp_path / "last.ckpt"
    torch.save({"hyper_parameters": {"net": net, "in_shape": [1, 28, 28], "num_classes": 10}, "state_dict": {}}, path)
    return str(path)


def test_the_same_net_passes(tmp_path) -> None:
    check_same_net(saved(tmp_path, MLP), dict(MLP), [1, 28, 28], 10)


def test_another_model_names_the_target(tmp_path) -> None:
    path = saved(tmp_path, {"_target_": "trainlab.models.CNN", "channels": [32, 64]})
    with pytest.raises(
        UserError, match=r"model\._target_=trainlab\.models\.CNN \(this run: trainlab\.models\.MLP\); start"
    ):
        check_same_net(path, dict(MLP), [1, 28, 28], 10)


def test_another_shape_names_the_key(tmp_path) -> None:
    with pytest.raises(UserError, match=r"model\.hidden=\[256, 256\] \(this run: \[64\]\)"):
        check_same_net(saved(tmp_path, MLP), {**MLP, "hidden": [64]}, [1, 28, 28], 10)
    with pytest.raises(UserError, match=r"in_shape=\[1, 28, 28\] \(this run: \[3, 32, 32\]\)"):
        check_same_net(saved(tmp_path, MLP), dict(MLP), [3, 32, 32], 10)
