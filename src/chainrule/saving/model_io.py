"""Save a network to a folder and load it back: ``model.safetensors`` + ``model.json``.

The round trip is bit-exact: the same architecture, dtype, parameters and buffers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .atomic import atomic_write_json
from .weights import WeightsFileError, load_weights, save_weights

FORMAT = "chainrule-model"
FORMAT_VERSION = 1


def save_model(model, directory, extra=None):
    """Write ``model`` (initialized) to ``directory``; ``extra`` is merged into model.json."""
    from .. import __version__

    if model.params is None:
        raise ValueError("save_model: the model has no parameters; call model.init(seed) first")
    directory = Path(directory)
    state = model.state_dict()
    save_weights(state, directory / "model.safetensors", metadata={"format": FORMAT})
    atomic_write_json(directory / "model.json", {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "chainrule_version": __version__,
        "dtype": str(model.dtype),
        "architecture": model.config(),
        "parameters": {k: list(v.shape) for k, v in model.params.items()},
        "buffers": {k: [list(v.shape), str(v.dtype)] for k, v in model.buffers.items()},
        **(extra or {}),
    })
    return directory


def read_model_json(directory):
    path = Path(directory) / "model.json"
    if not path.is_file():
        raise ConfigError(f"no saved model in {directory}: {path.name} not found")
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a chainrule model file (expected format {FORMAT!r})")
    version = meta.get("format_version", 0)
    if not isinstance(version, int):
        raise ConfigError(f"{path}: format_version must be an integer, found {version!r}")
    if version > FORMAT_VERSION:
        raise ConfigError(f"{path} has format version {version}, newer than this chainrule")
    if not isinstance(meta.get("architecture"), dict):
        raise ConfigError(f"{path} has no 'architecture' object describing the layers")
    if meta.get("dtype", "float64") not in ("float32", "float64"):
        raise ConfigError(f"{path}: dtype must be 'float32' or 'float64', found {meta.get('dtype')!r}")
    return meta


def load_model(directory):
    """The network saved in ``directory``, with its parameters and buffers."""
    from ..nn.model import Sequential, layer_from_config

    meta = read_model_json(directory)
    try:
        model = layer_from_config(meta["architecture"])
    except (ValueError, TypeError) as e:  # a layer rejecting its configuration (ConfigError is a ValueError)
        raise ConfigError(f"{Path(directory) / 'model.json'}: bad architecture: {e}") from None
    if not isinstance(model, Sequential):
        raise ConfigError(f"{Path(directory) / 'model.json'}: the architecture must be a network (sequential), "
                          f"found a single {model.kind!r} layer")
    dtype = np.dtype(meta.get("dtype", "float64"))
    params, buffers = model.init_params(np.random.default_rng(0), dtype)
    expected = {k: (v.shape, v.dtype) for k, v in {**params, **buffers}.items()}
    state = load_weights(Path(directory) / "model.safetensors", expected)
    for k, v in state.items():
        if not np.all(np.isfinite(v)) and np.issubdtype(v.dtype, np.floating):
            raise WeightsFileError(f"{directory}/model.safetensors: tensor '{k}' contains NaN or inf")
    model.params = {k: np.array(state[k]) for k in params}
    model.buffers = {k: np.array(state[k]) for k in buffers}
    return model
