"""Export directories: what `node train.js --export` writes and what PyTorch training saves back.

    config.json           timm.create_model arguments, normalisation, class names, iFAM options,
                          training settings (see docs/pytorch.md)
    model.safetensors     baseline / robustvit: the whole timm-named ViT
    stage1.safetensors    iFAM: each stage a timm-named ViT without a head (num_classes=0)
    stage2.safetensors
    ifam_heads.safetensors  iFAM: part_head.*, head_norm.*, head.*

Weights only, no optimiser state. Data files (`data/*.safetensors`, written by `--with-data`) hold
`images` [N, 3, S, S] in [0, 1] (not normalised), `labels` [N] and `places` [N].
"""
import json
import os

import torch

from .safetensors import load_file, save_file, write_atomic
from .vit import VisionTransformer
from .ifam import IFAM

FORMAT = "webfam-pytorch"


class ExportError(ValueError):
    pass


def read_config(directory):
    path = os.path.join(directory, "config.json")
    if not os.path.exists(path):
        raise ExportError(f"{directory} is not a webfam export (no config.json); write one with node train.js --export")
    with open(path) as f:
        config = json.load(f)
    if config.get("format") != FORMAT:
        raise ExportError(f"{path}: format is {config.get('format')!r}, expected {FORMAT!r}")
    return config


def vit_kwargs(config):
    """Arguments for this package's VisionTransformer: timm's plus the LayerNorm epsilon."""
    return dict(config["timm"]["kwargs"], norm_eps=config.get("norm_eps", 1e-6))


def build_model(config):
    """A freshly initialised model of the architecture the config describes."""
    if config["method"] == "ifam":
        o = config["ifam"]
        return IFAM(vit_kwargs(config), config["num_classes"], parts=o["parts"], tau=o["tau"],
                    part_dropout=o["part_dropout"], joint_grad=o["joint_grad"], joint_grad_scale=o.get("joint_grad_scale", 1.0))
    return VisionTransformer(**vit_kwargs(config))


def load_export(directory, map_location="cpu"):
    """(model in eval mode, config) from an export directory; every key must match (strict)."""
    config = read_config(directory)
    model = build_model(config)
    state = {}
    for role, name in config["files"].items():
        tensors, _ = load_file(os.path.join(directory, name))
        # Stage files are plain timm ViTs; inside the iFAM module they sit under stage1./stage2.
        prefix = f"{role}." if role in ("stage1", "stage2") else ""
        state.update({prefix + k: v for k, v in tensors.items()})
    model.load_state_dict(state, strict=True)
    return model.to(map_location).eval(), config


def split_state(model, config):
    """{file name: state dict} in the export layout."""
    state = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    if config["method"] != "ifam":
        return {config["files"]["model"]: state}
    files = config["files"]
    out = {files["stage1"]: {}, files["stage2"]: {}, files["heads"]: {}}
    for k, v in state.items():
        stage = k.split(".", 1)[0]
        if stage in ("stage1", "stage2"):
            out[files[stage]][k.split(".", 1)[1]] = v
        else:
            out[files["heads"]][k] = v
    return out


def save_export(directory, model, config):
    """Writes the model's weights and config.json (each file atomically, config.json last)."""
    os.makedirs(directory, exist_ok=True)
    for name, tensors in split_state(model, config).items():
        save_file(tensors, os.path.join(directory, name), metadata={"format": "pt"})
    write_atomic(os.path.join(directory, "config.json"), (json.dumps(config, indent=2) + "\n").encode())


def normalize(images, config):
    """Images in [0, 1] to the model's input normalisation, computed as webfam's data loader does
    ((x - mean) * (1 / std) in float64, rounded once to float32), so both see the same inputs."""
    n = config.get("normalize")
    if not n:
        return images
    mean = torch.tensor(n["mean"], dtype=torch.float64, device=images.device)[None, :, None, None]
    inv_std = 1 / torch.tensor(n["std"], dtype=torch.float64, device=images.device)[None, :, None, None]
    return ((images.double() - mean) * inv_std).to(images.dtype)


def load_data(path, config=None):
    """A data file: (images [N, 3, S, S] float in [0, 1], labels [N] long, places [N] long or None, metadata);
    with `config`, the images must have the model's size."""
    tensors, metadata = load_file(path)
    for key in ("images", "labels"):
        if key not in tensors:
            raise ExportError(f"{path}: no {key!r} tensor; data files hold images [N, 3, S, S], labels [N] and optionally places [N]")
    images, labels = tensors["images"].float(), tensors["labels"].long()
    if images.dim() != 4 or images.shape[1] != 3 or labels.shape != (images.shape[0],):
        raise ExportError(f"{path}: images {list(images.shape)} and labels {list(labels.shape)} do not form a batch")
    if config is not None:
        size = config["timm"]["kwargs"]["img_size"]
        if images.shape[2:] != (size, size):
            raise ExportError(f"{path}: images are {images.shape[2]}x{images.shape[3]}, the model takes {size}x{size}")
    places = tensors["places"].long() if "places" in tensors else None
    return images, labels, places, metadata
