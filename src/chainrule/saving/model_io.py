"""Save a network to a folder and load it back: ``model.safetensors`` + ``model.json`` +
``checksums.json`` (the SHA-256 of the other two, written last; ``checksums.py``).

The round trip is bit-exact: the same architecture, dtype, parameters and buffers. Loading
verifies the checksums (a folder saved without them loads with a warning) and compares the
weights file's header — names, shapes, dtypes — with what the architecture in model.json
declares before any parameter is allocated or any tensor read.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..data.files import open_regular
from ..errors import ArgumentTypeError, ConfigError, WeightsFileError
from .atomic import atomic_write_json
from .checksums import read_checksums, verify_checksums, verify_digest, write_checksums
from .weights import check_against, load_weights, read_header, save_weights

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
MAX_JSON_BYTES = 64 * 2**20  # a model.json is a few kB; anything near this is not one


def save_model(model, directory, extra=None):
    """Write ``model`` (initialized) to ``directory``; ``extra`` is merged into model.json."""
    from .._version import __version__

    if not callable(getattr(model, "state_dict", None)) or not callable(getattr(model, "config", None)):
        raise ArgumentTypeError(f"save_model(model): expected a chainrule network, got {type(model).__name__}")
    if model.params is None:
        raise ConfigError("save_model: the model has no parameters; call model.init(seed) first")
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
    write_checksums(directory, ("model.json", "model.safetensors"))
    return directory


def read_json_file(path, what, max_bytes=MAX_JSON_BYTES):
    """The JSON value in ``path``, or a ConfigError saying in one line why it cannot be read."""
    path = Path(path)
    return parse_json(path, read_capped(path, what, max_bytes))


def read_capped(path, what, max_bytes=MAX_JSON_BYTES):
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes`` (checked before
    anything is read); else a ConfigError naming what it is (a folder, a FIFO: opened without
    blocking) or how big."""
    try:
        with open_regular(path, what, ConfigError, max_bytes) as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise ConfigError(f"cannot read {path} ({e.strerror or type(e).__name__})") from None
    if len(data) > max_bytes:  # (it grew after the check)
        raise ConfigError(f"{what} {path} is more than the {max_bytes} bytes allowed")
    return data


def parse_json(path, data):
    """The JSON value of ``data`` (read from ``path``), or a ConfigError saying in one line why not."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON (not UTF-8 text: {e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise ConfigError(f"{path} is not valid JSON ({str(e)[:80]})") from None
    except RecursionError:
        raise ConfigError(f"{path} is not valid JSON (nested too deeply)") from None


def read_model_json(directory, checksums=None):
    """model.json's content: its size (at most MAX_JSON_BYTES) and kind checked first, then the
    checksum of the bytes read (so a forged huge file is refused before it is hashed)."""
    path = Path(directory) / "model.json"
    if not os.path.lexists(path):
        raise ConfigError(f"no saved model in {directory}: {path.name} not found")
    data = read_capped(path, "model file")
    verify_digest(directory, "model.json", hashlib.sha256(data).hexdigest(), checksums)  # (None: not verified)
    meta = parse_json(path, data)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a chainrule model file (expected format {FORMAT!r})")
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(f"{path}: format_version must be an integer, found {_short(version)}")
    if isinstance(version, bool) or version > FORMAT_VERSION:
        raise ConfigError(f"{path} has format version {version}, newer than this chainrule")
    if not isinstance(meta.get("architecture"), dict):
        raise ConfigError(f"{path} has no 'architecture' object describing the layers")
    if not isinstance(meta.get("dtype", "float64"), str) or meta.get("dtype", "float64") not in ("float32", "float64"):
        raise ConfigError(f"{path}: dtype must be 'float32' or 'float64', found {_short(meta.get('dtype'))}")
    return meta


def load_model(directory):
    """The network saved in ``directory``, with its parameters and buffers.

    In this order, so that a wrong or forged folder costs neither time nor memory: model.json's
    kind and size, its checksum, the architecture (layers configured, no parameters made), the weights file's
    header against the names, shapes and dtypes the architecture declares (and its data size
    against the file's: a padded file is refused before it is hashed), the weights file's
    checksum, and only then the tensors."""
    from ..nn.model import Sequential, layer_from_config

    checksums = read_checksums(directory) if os.path.lexists(Path(directory) / "model.json") else None
    meta = read_model_json(directory, checksums)
    where = Path(directory) / "model.json"
    try:
        model = layer_from_config(meta["architecture"])
    except RecursionError:
        raise ConfigError(f"{where}: bad architecture: layers nested too deeply") from None
    except (ValueError, TypeError, AttributeError, OverflowError) as e:  # a layer rejecting its configuration
        raise ConfigError(f"{where}: bad architecture: {_first_line(e)}") from None
    if not isinstance(model, Sequential):
        raise ConfigError(f"{where}: the architecture must be a network (sequential), "
                          f"found a single {getattr(model, 'kind', type(model).__name__)!r} layer")
    dtype = np.dtype(meta.get("dtype", "float64"))
    weights = Path(directory) / "model.safetensors"
    declared = declared_state(model, dtype)
    expected = {k: declared[k] for k in (*model.param_names, *model.buffer_names)}  # (init_params' order)
    spec, _ = read_header(weights)
    check_against(weights, spec, expected)
    verify_checksums(directory, ("model.safetensors",), checksums)
    state = load_weights(weights, expected)
    for k, v in state.items():
        if not np.all(np.isfinite(v)) and np.issubdtype(v.dtype, np.floating):
            raise WeightsFileError(f"{directory}/model.safetensors: tensor '{k}' contains NaN or inf")
    model.params = {k: state[k] for k in model.param_names}
    model.buffers = {k: state[k] for k in model.buffer_names}
    return model


def declared_state(layer, dtype):
    """{name: (shape, dtype)} of the parameters and buffers ``layer`` declares, from its
    configuration alone (nothing allocated): what ``init_params`` would make."""
    from ..nn.layers import BatchNorm, Dense

    if hasattr(layer, "child_prefix"):  # a container: its children's names under their prefixes
        return {layer.child_prefix(i) + k: v for i, child in enumerate(layer.layers)
                for k, v in declared_state(child, dtype).items()}
    if isinstance(layer, Dense):
        return {"weight": ((layer.d_out, layer.d_in), dtype), "bias": ((layer.d_out,), dtype)}
    if isinstance(layer, BatchNorm):
        d = (layer.d_in,)
        return {"weight": (d, dtype), "bias": (d, dtype), "running_mean": (d, dtype), "running_var": (d, dtype),
                "num_batches_tracked": ((), np.dtype(np.int64))}
    if not layer.param_names and not layer.buffer_names:
        return {}
    params, buffers = layer.init_params(np.random.default_rng(0), dtype)  # (a layer this function does not know)
    return {k: (v.shape, v.dtype) for k, v in {**params, **buffers}.items()}


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _first_line(e):
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]
