"""The conv nets for 3×32×32 (cnn, resnet, fast_cnn, plain_cnn): a training step on CIFAR-10's and MNIST's shapes,
model.activation, init and the regularization switches honoured, and the channels_last, compile and tta_flip
switches acting; an in-process run on a small CIFAR look-alike with bf16 autocast and the GPU variant of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers.config import QUICK, compose_train
from helpers.fake_cifar import fake_cifar
from torch import nn

from trainlab.classifier import Classifier
from trainlab.config.validation import models_using, problems
from trainlab.data import CIFAR10DataModule
from trainlab.init import initialize, weighted_layers

# Small widths: the architecture is the same, the step takes milliseconds.
NETS: dict[str, dict[str, Any]] = {
    "cnn": {"_target_": "trainlab.models.CNN", "channels": [4, 8], "dense": 16},
    "resnet": {"_target_": "trainlab.models.ResNet", "widths": [4, 8, 8, 16]},
    "fast_cnn": {"_target_": "trainlab.models.FastCNN", "stem": 4, "widths": [8, 8, 16]},
    "plain_cnn": {"_target_": "trainlab.models.PlainCNN", "channels": [4, 4, 8, 8, 8], "pool_every": 2},
}
SGD = {"_target_": "torch.optim.SGD", "lr": 0.1}


def build(name: str, shape: tuple[int, ...] = (3, 32, 32), **kwargs: Any) -> nn.Module:
    return Classifier({**NETS[name], **kwargs}, list(shape), 10, SGD).net


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 28, 28)], ids=["cifar10", "mnist"])
@pytest.mark.parametrize("name", NETS)
def test_one_training_step_on_the_cpu(name: str, shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    model = Classifier({**NETS[name], "batchnorm": True}, list(shape), 10, SGD)
    x, y = torch.randn(6, *shape), torch.arange(6)
    before = [p.detach().clone() for p in model.net.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    objective = model.objective(x, y)
    objective.total.backward()
    optimizer.step()
    assert objective.logits.shape == (6, 10)
    changed = [not torch.equal(b, p) for b, p in zip(before, model.net.parameters(), strict=True)]
    assert all(changed)  # every weight, bias and norm parameter took the step


@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("activation,module", [("tanh", nn.Tanh), ("elu", nn.ELU), ("gelu", nn.GELU)])
def test_activation_is_honoured(name: str, activation: str, module: type[nn.Module]) -> None:
    kinds = {type(m) for m in build(name, activation=activation).modules()}
    assert module in kinds and not kinds & {nn.ReLU, nn.GELU, nn.Tanh, nn.ELU} - {module}


@pytest.mark.parametrize("name", NETS)
def test_maxout_makes_pieces_per_channel(name: str) -> None:
    net = build(name, activation="maxout", maxout_pieces=3)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.out_channels % 3 == 0 for c in convs)


@pytest.mark.parametrize("name", NETS)
def test_batchnorm_switch_and_order_are_honoured(name: str) -> None:
    assert not any(isinstance(m, nn.BatchNorm2d) for m in build(name, batchnorm=False).modules())
    leaves = [m for m in build(name, batchnorm=True, activation="relu").modules() if not list(m.children())]
    swapped = build(name, batchnorm=True, batchnorm_order="after_activation", activation="relu")
    after = [m for m in swapped.modules() if not list(m.children())]
    first, first_after = (next(i for i, m in enumerate(ms) if isinstance(m, nn.BatchNorm2d)) for ms in (leaves, after))
    assert isinstance(leaves[first + 1], nn.ReLU) and not isinstance(leaves[first - 1], nn.ReLU)
    assert isinstance(after[first_after - 1], nn.ReLU)


@pytest.mark.parametrize("name", ["resnet", "plain_cnn"])
def test_dropout_before_the_classifier_is_honoured(name: str) -> None:
    assert [m.p for m in build(name, dropout=0.3).modules() if isinstance(m, nn.Dropout)] == [0.3]
    assert not any(isinstance(m, nn.Dropout) for m in build(name, dropout=0.0).modules())


def test_switches_a_net_ignores_are_refused_and_those_it_takes_are_listed() -> None:
    found = problems(compose_train(["data=cifar10", "model=fast_cnn", "regularization=dropout"]))
    assert len(found) == 1 and found[0].startswith("regularization.dropout=0.2 has no effect on FastCNN")
    assert {"resnet", "plain_cnn", "mlp"} <= set(models_using("dropout"))
    assert {"cnn", "resnet", "fast_cnn", "plain_cnn", "mlp"} <= set(models_using("batchnorm"))


@pytest.mark.parametrize("name", NETS)
def test_he_init_reaches_every_conv_in_forward_order(name: str) -> None:
    torch.manual_seed(0)
    net = build(name, batchnorm=False)
    layers = weighted_layers(net)
    assert isinstance(layers[0], nn.Conv2d) and isinstance(layers[-1], nn.Linear)
    initialize(net, "he_normal")
    for layer in layers[:-1]:
        fan_in = layer.weight[0].numel()
        assert abs(layer.weight.std().item() / (2 / fan_in) ** 0.5 - 1) < 0.35, layer


@pytest.mark.parametrize("name", NETS)
def test_channels_last_stores_weights_and_inputs_nhwc_with_the_same_outputs(name: str) -> None:
    torch.manual_seed(0)
    plain, fast = build(name).eval(), build(name, channels_last=True).eval()
    fast.load_state_dict(plain.state_dict())
    conv = next(m for m in fast.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not next(m for m in plain.modules() if isinstance(m, nn.Conv2d)).weight.is_contiguous(
        memory_format=torch.channels_last
    )
    seen = []
    conv.register_forward_pre_hook(
        lambda _m, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last))
    )
    x = torch.randn(4, 3, 32, 32)
    assert torch.allclose(fast(x), plain(x), atol=1e-5)
    assert seen == [True]


@pytest.mark.parametrize("name", NETS)
def test_tta_flip_averages_the_mirrored_logits_in_eval_only(name: str) -> None:
    torch.manual_seed(0)
    plain, tta = build(name), build(name, tta_flip=True)
    tta.load_state_dict(plain.state_dict())
    x = torch.randn(4, 3, 32, 32)
    plain.eval(), tta.eval()
    expected = (plain(x) + plain(x.flip(3))) / 2
    assert torch.allclose(tta(x), expected, atol=1e-6) and not torch.allclose(tta(x), plain(x), rtol=1e-3, atol=0)
    plain.train(), tta.train()
    torch.manual_seed(1)
    a = tta(x)
    torch.manual_seed(1)
    assert torch.equal(a, plain(x))  # training: one plain forward pass


@pytest.mark.slow
def test_compile_runs_the_layers_through_torch_compile() -> None:
    import torch._dynamo

    torch._dynamo.reset()
    torch.manual_seed(0)
    plain, compiled = build("plain_cnn").eval(), build("plain_cnn", compile=True).eval()
    compiled.load_state_dict(plain.state_dict())
    assert set(compiled.state_dict()) == set(plain.state_dict())  # the compiled wrapper is not in the state dict
    frames = torch._dynamo.utils.counters["frames"]["ok"]
    x = torch.randn(4, 3, 32, 32)
    assert torch.allclose(compiled(x), plain(x), atol=1e-4)
    assert torch._dynamo.utils.counters["frames"]["ok"] > frames  # dynamo captured the forward


def record_devices(out_dir: Path) -> list[str]:
    return ["+callbacks.devices._target_=helpers.probes.RecordDevices", f"+callbacks.devices.out_dir={out_dir}"]


def tiny_cifar_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Overrides for an in-process run on a CIFAR look-alike of 40 images with a small fast_cnn."""
    train, test = fake_cifar(tmp_path / "data" / "cifar10", per_batch=8)
    monkeypatch.setattr(CIFAR10DataModule, "train_batches", train)
    monkeypatch.setattr(CIFAR10DataModule, "test_batches", test)
    return [
        *QUICK,
        "data=cifar10",
        f"paths.data_dir={tmp_path / 'data'}",
        "data.val_size=8",
        "data.batch_size=8",
        "model=fast_cnn",
        "model.stem=4",
        "model.widths=[8,8,8]",
        "model.channels_last=true",
        "regularization=[batchnorm,augment]",
        *record_devices(tmp_path),
    ]


def test_bf16_mixed_runs_the_forward_pass_in_bf16_on_the_cpu(tmp_path: Path, train_run, monkeypatch) -> None:
    metrics = train_run(*tiny_cifar_run(tmp_path, monkeypatch), "trainer.precision=bf16-mixed")
    seen = json.loads((tmp_path / "devices.json").read_text())
    assert seen == {"batch": ["cpu"], "split": ["cpu"], "logits": ["torch.bfloat16"]}
    assert metrics["status"] == "completed" and 0 <= metrics["test/acc"] <= 1


@pytest.mark.gpu
def test_on_the_gpu_the_uint8_set_and_its_batches_live_there(tmp_path: Path, train_run, monkeypatch) -> None:
    train_run(*tiny_cifar_run(tmp_path, monkeypatch), "trainer/accelerator=gpu")
    seen = json.loads((tmp_path / "devices.json").read_text())
    assert seen["split"] == ["cuda:0"] and seen["batch"] == ["cuda:0"]
