"""`src/predict.py`: class probabilities for new inputs, from one checkpoint or an ensemble, to `predictions.csv`.

Inputs are raw pixel values (0..255, what the data modules store): a `.npy` array of images, one PNG/JPEG image,
or a folder of them (read with Pillow: grayscale for a 1-channel model, RGB for 3 channels; no resizing). Each
checkpoint scales them exactly as its training batches were (`InMemoryDataModule.scale_inputs`, with the
statistics of its own training split). A bad input is a one-line error naming the file.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from torch import Tensor

from trainlab.config.errors import UserError
from trainlab.ensemble import Member, check_compatible, checkpoint_paths, load_member, mean_probabilities, required
from trainlab.evaluation_report import class_names

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
PREDICTIONS_CSV = "predictions.csv"


def size_text(shape: Sequence[int]) -> str:
    channels, height, width = shape
    return f"{height}×{width} with {channels} channel{'s' if channels != 1 else ''}"


def read_npy(path: Path, shape: Sequence[int]) -> Tensor:
    """Images (N, C, H, W) from a .npy array of shape (N, H, W) (one channel), (N, C, H, W) or (N, H, W, C)."""
    channels, height, width = shape
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise UserError(f"inputs={path}: not a readable .npy file ({str(err).splitlines()[0]})") from err
    if array.ndim == 3 and channels == 1:
        array = array[:, None]
    if array.ndim != 4 or len(array) == 0:
        raise UserError(
            f"inputs={path}: an array of shape {array.shape}; expected N images as (N, H, W), (N, C, H, W) "
            f"or (N, H, W, C), the model takes {size_text(shape)}"
        )
    if array.shape[1:] != (channels, height, width) and array.shape[1:3] == (height, width):
        array = array.transpose(0, 3, 1, 2)  # channels last
    if array.shape[2:] != (height, width):
        raise UserError(
            f"inputs={path}: images of {array.shape[2]}×{array.shape[3]} (shape {array.shape}); "
            f"the model takes {size_text(shape)}: resize them first"
        )
    if array.shape[1] != channels:
        raise UserError(
            f"inputs={path}: images with {array.shape[1]} channels (shape {array.shape}); "
            f"the model takes {size_text(shape)}"
        )
    if array.dtype.kind not in "uif" or array.min() < 0 or array.max() > 255:
        raise UserError(
            f"inputs={path}: values of type {array.dtype} in [{array.min()}, {array.max()}]; expected raw pixel "
            "values 0..255 (uint8), as the training images are stored"
        )
    return torch.from_numpy(np.ascontiguousarray(array))


def read_image(path: Path, shape: Sequence[int]) -> Tensor:
    """One image file as (C, H, W) uint8: grayscale for a 1-channel model, RGB for 3."""
    from PIL import Image, UnidentifiedImageError

    channels, height, width = shape
    if channels not in (1, 3):
        raise UserError(f"inputs={path}: image files are read for 1- or 3-channel models; this one takes {channels}")
    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise UserError(f"inputs={path}: not a readable PNG/JPEG image ({type(err).__name__})") from err
    if pixels.shape[:2] != (height, width):
        raise UserError(
            f"inputs={path}: an image of {pixels.shape[0]}×{pixels.shape[1]} pixels; the model takes "
            f"{size_text(shape)}: resize it first"
        )
    return torch.from_numpy(pixels.reshape(height, width, channels).transpose(2, 0, 1).copy())


def read_inputs(inputs: str, shape: Sequence[int]) -> tuple[Tensor, list[str]]:
    """The images `inputs` names, (N, C, H, W), and a label for each row: file names, or indices of a .npy."""
    path = Path(inputs)
    if not path.exists():
        raise UserError(f"inputs={inputs}: no such file or folder; pass a .npy file or a folder of PNG/JPEG images")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise UserError(f"inputs={inputs}: no .png, .jpg or .jpeg files in this folder")
        return torch.stack([read_image(f, shape) for f in files]), [f.name for f in files]
    if path.suffix.lower() == ".npy":
        images = read_npy(path, shape)
        return images, [str(i) for i in range(len(images))]
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return read_image(path, shape)[None], [path.name]
    raise UserError(f"inputs={inputs}: not a .npy file, a PNG/JPEG image or a folder of them")


def device_of(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("device=cuda: no CUDA device here; use device=auto or device=cpu")
    return torch.device(name)


@torch.no_grad()
def member_probabilities(member: Member, images: Tensor, batch_size: int, device: torch.device) -> Tensor:
    """One checkpoint's class probabilities, its own input scaling applied batch by batch (as in training)."""
    datamodule, model = member.datamodule, member.model.to(device)
    datamodule.setup("fit")  # the scaling statistics of its training split
    out = []
    for start in range(0, len(images), batch_size):
        x = datamodule.scale_inputs(images[start : start + batch_size].to(device))
        out.append(model.probabilities(model(x)).float().cpu())
    return torch.cat(out)


def write_predictions(path: Path, labels: Sequence[str], probabilities: Tensor, names: Sequence[str]) -> None:
    """`input,class,p_<class>…`: each input's most probable class and every class's probability."""
    path.parent.mkdir(parents=True, exist_ok=True)
    top = probabilities.argmax(dim=1).tolist()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["input", "class", *(f"p_{name}" for name in names)])
        for label, best, row in zip(labels, top, probabilities.tolist(), strict=True):
            writer.writerow([label, names[best], *(f"{p:.9g}" for p in row)])


def predict(cfg: DictConfig) -> Path:
    """Predict `cfg.inputs` with the checkpoint(s) `cfg.ckpt_path` names; return the path of predictions.csv."""
    paths, inputs = checkpoint_paths(required(cfg, "ckpt_path")), str(required(cfg, "inputs"))
    members = [load_member(cfg, path) for path in paths]
    check_compatible(members)
    hparams = members[0].model.hparams
    images, labels = read_inputs(inputs, list(hparams["in_shape"]))
    device = device_of(str(cfg.device))
    batch_size = int(cfg.data.eval_batch_size)
    probabilities = mean_probabilities([member_probabilities(m, images, batch_size, device) for m in members])
    names = class_names(members[0].datamodule, int(hparams["num_classes"]))
    path = Path(cfg.paths.output_dir) / PREDICTIONS_CSV
    write_predictions(path, labels, probabilities, names)
    counts = torch.bincount(probabilities.argmax(dim=1), minlength=len(names)).tolist()
    common = ", ".join(f"{names[i]}: {counts[i]}" for i in sorted(range(len(names)), key=lambda i: -counts[i])[:5])
    who = f"an ensemble of {len(members)} checkpoints" if len(members) > 1 else str(members[0].path)
    print(f"{len(labels)} predictions by {who} (most predicted: {common})\npredictions written to {path}")
    return path
