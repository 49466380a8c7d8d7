"""webfam's models in PyTorch: load what `node train.js --export` writes, evaluate it, continue
training it on many processes (torchrun/DDP), and save it so `node train.js --import` reads it back.
Standard library + torch only. See docs/pytorch.md.
"""
from .safetensors import load_file, save_file
from .vit import VisionTransformer
from .ifam import IFAM, PartHead
from .export import load_export, save_export, build_model, load_data, normalize, ExportError
from .losses import batch_loss

__all__ = [
    "load_file", "save_file", "VisionTransformer", "IFAM", "PartHead", "load_export", "save_export",
    "build_model", "load_data", "normalize", "ExportError", "batch_loss",
]
