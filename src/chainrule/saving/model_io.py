"""Save a network to a folder and load it back: ``model.safetensors`` + ``model.json``.

The round trip is bit-exact: the same architecture, dtype, parameters and buffers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import ArgumentTypeError, ConfigError, WeightsFileError
from .atomic import atomic_write_json
from .weights import load_weights, read_header, save_weights

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
MAX_JSON_BYTES = 64 * 2**20  # a model.json is a few kB; anything near this is not one
ALLOCATION_SLACK = 2**24  # elements an architecture may allocate before its weights file is compared (128 MB)


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
    return directory


def read_json_file(path, what, max_bytes=MAX_JSON_BYTES):
    """The JSON value in ``path``, or a ConfigError saying in one line why it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} not found: {path}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ConfigError(f"{path} is {size} bytes, more than a {what} can be ({max_bytes}); refusing to read it")
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON (not UTF-8 text: {e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise ConfigError(f"{path} is not valid JSON ({str(e)[:80]})") from None
    except RecursionError:
        raise ConfigError(f"{path} is not valid JSON (nested too deeply)") from None
    except OSError as e:
        raise ConfigError(f"cannot read {path} ({e.strerror or type(e).__name__})") from None


def read_model_json(directory):
    path = Path(directory) / "model.json"
    if not path.is_file():
        raise ConfigError(f"no saved model in {directory}: {path.name} not found")
    meta = read_json_file(path, "model file")
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
    """The network saved in ``directory``, with its parameters and buffers."""
    from ..nn.model import Sequential, layer_from_config

    meta = read_model_json(directory)
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
    # The parameters are allocated from the architecture before the weights are read, so a
    # model.json declaring a 10⁶ × 10⁶ layer is refused unless the weights file really holds that
    # many numbers (small mismatches pass on to the exact name/shape/dtype check below).
    weights = Path(directory) / "model.safetensors"
    spec, _ = read_header(weights)
    held = sum(math.prod(shape) for shape, _ in spec.values())
    needed = _min_state_elements(model)
    if needed > max(held, ALLOCATION_SLACK):
        raise WeightsFileError(f"{weights} holds {held} numbers but the architecture in {where} needs at least "
                               f"{needed}: the two files do not belong together")
    params, buffers = model.init_params(np.random.default_rng(0), dtype)
    expected = {k: (v.shape, v.dtype) for k, v in {**params, **buffers}.items()}
    state = load_weights(weights, expected)
    for k, v in state.items():
        if not np.all(np.isfinite(v)) and np.issubdtype(v.dtype, np.floating):
            raise WeightsFileError(f"{directory}/model.safetensors: tensor '{k}' contains NaN or inf")
    model.params = {k: np.array(state[k]) for k in params}
    model.buffers = {k: np.array(state[k]) for k in buffers}
    return model


def _min_state_elements(layer):
    """A lower bound on the number of parameter and buffer elements of ``layer``, from its
    configuration alone: d_in·d_out + d_out per Dense layer, 4·d + 1 per BatchNorm, at least
    one element per array of any other layer."""
    from ..nn.layers import BatchNorm, Dense

    if hasattr(layer, "layers"):
        return sum(_min_state_elements(x) for x in layer.layers)
    if isinstance(layer, Dense):
        return layer.d_in * layer.d_out + layer.d_out
    if isinstance(layer, BatchNorm):
        return 4 * layer.d_in + 1
    return len(getattr(layer, "param_names", ())) + len(getattr(layer, "buffer_names", ()))


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _first_line(e):
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]
