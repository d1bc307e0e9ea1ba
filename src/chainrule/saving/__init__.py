"""Saving and loading, without pickle: weights in safetensors, everything else in JSON.

A saved model is a folder with ``model.safetensors`` (parameters and buffers under PyTorch's
state-dict names and layout, loadable by ``torch.nn.Sequential.load_state_dict``) and
``model.json`` (architecture, dtype, versions), sealed by ``checksums.json`` (their SHA-256,
verified on load). Every file is written atomically (temporary file, fsync, rename), so a crash
never leaves a half-written file in place.
"""

from .atomic import atomic_write_bytes, atomic_write_json
from .model_io import load_model, save_model
from .weights import load_weights, save_weights

__all__ = ["atomic_write_bytes", "atomic_write_json", "load_model", "load_weights", "save_model", "save_weights"]
