"""Weights files in the safetensors format (a JSON header, then raw little-endian bytes).

safetensors exists because pickle-based weight files execute code when loaded; this format
cannot. ``load_weights`` reads the header first and checks names, dtypes and shapes against
what the caller expects before reading any tensor data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ChainruleError
from .atomic import atomic_write_bytes


class WeightsFileError(ChainruleError, ValueError):
    """A weights file is missing, malformed, or does not fit the model."""


def _safetensors():
    try:
        import safetensors.numpy as st
        from safetensors import safe_open
    except ImportError:
        raise ImportError(
            "saving and loading weights needs the safetensors package: pip install 'chainrule[io]'"
        ) from None
    return st, safe_open


def save_weights(tensors, path, metadata=None):
    """Write {name: array} to ``path`` atomically. Arrays are stored C-contiguous, bit for bit."""
    st, _ = _safetensors()
    arrays = {k: np.asarray(v).copy(order="C") for k, v in tensors.items()}  # (ascontiguousarray makes 0-d 1-d)
    data = st.save(arrays, metadata={k: str(v) for k, v in (metadata or {}).items()})
    atomic_write_bytes(path, data)


def read_header(path):
    """({name: (shape, dtype)}, metadata) from the file's header, without reading tensor data."""
    _, safe_open = _safetensors()
    path = Path(path)
    if not path.is_file():
        raise WeightsFileError(f"weights file not found: {path}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            spec = {}
            for name in f.keys():
                sl = f.get_slice(name)
                spec[name] = (tuple(sl.get_shape()), str(sl.get_dtype()))
    except WeightsFileError:
        raise
    except Exception as e:  # the safetensors library raises several types for malformed files
        raise WeightsFileError(f"{path} is not a valid safetensors file ({type(e).__name__}: {e})") from None
    return spec, meta


_ST_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "I64": "int64", "I32": "int32",
              "U8": "uint8", "BOOL": "bool"}


def load_weights(path, expected=None):
    """Read {name: array} from ``path``.

    expected: optional {name: (shape, dtype)}; the file's header must list exactly these names
    with these shapes and dtypes, checked before any tensor is read.
    """
    spec, _ = read_header(path)
    if expected is not None:
        _check_against(path, spec, expected)
    _, safe_open = _safetensors()
    try:
        with safe_open(str(path), framework="numpy") as f:
            return {name: f.get_tensor(name) for name in spec}
    except Exception as e:
        raise WeightsFileError(f"{path}: could not read tensor data ({type(e).__name__}: {e})") from None


def _check_against(path, spec, expected):
    missing = [k for k in expected if k not in spec]
    extra = [k for k in spec if k not in expected]
    if missing or extra:
        raise WeightsFileError(
            f"{path} does not fit the model: missing {missing or 'nothing'}, unexpected {extra or 'nothing'}"
        )
    for name, (shape, dtype) in expected.items():
        f_shape, f_dtype = spec[name]
        f_dtype = _ST_DTYPES.get(f_dtype, f_dtype.lower())
        if tuple(shape) != tuple(f_shape) or np.dtype(dtype) != np.dtype(f_dtype):
            raise WeightsFileError(
                f"{path}: tensor '{name}' has shape {tuple(f_shape)} and dtype {f_dtype}, "
                f"but the model expects shape {tuple(shape)} and dtype {np.dtype(dtype)}"
            )
