"""Weights files in the safetensors format (a JSON header, then raw little-endian bytes).

safetensors exists because pickle-based weight files execute code when loaded; this format
cannot. The layout: 8 bytes (little-endian u64) giving the header's length n, n bytes of JSON
``{name: {"dtype": "F64", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}``,
then the tensors' bytes, packed without gaps in offset order.

Writing and reading the tensors use the safetensors package (so the files are exactly what
torch and the other safetensors readers expect). Before the package reads anything, the header
is validated here, so every check happens before any tensor is allocated: the header's size is
bounded by the file's, its JSON
must have exactly this structure, every dtype must be known, every shape a list of
non-negative integers whose byte size equals its offset range, the ranges must tile the data
section exactly, and the data section must be as long as the header says. A file that
declares a 10¹²-element tensor is refused from its header alone. With ``expected`` the names,
shapes and dtypes are also checked against the model before any tensor is read.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..constraints import short_repr, validate
from ..data.files import open_regular
from ..errors import ArgumentTypeError, InvalidArgumentError, OptionalDependencyError, WeightsFileError
from .atomic import atomic_write_bytes

# The safetensors library's own bound on the header (its MAX_HEADER_SIZE).
MAX_HEADER_BYTES = 100_000_000

MAX_DIMS = 64  # NumPy's limit on the number of dimensions

# safetensors dtype codes NumPy reads (little-endian); BF16 and the F8 formats have no NumPy dtype.
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}


def _safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise OptionalDependencyError(
            "saving weights needs the safetensors package, which is not installed: pip install 'chainrule[io]'"
        ) from None
    return st


_WRITABLE = {np.dtype(code).newbyteorder("=") for code in DTYPES.values()}
_CONSTRAINTS = {"tensors": [Mapping], "path": [str, os.PathLike], "metadata": [None, Mapping],
                "expected": [None, Mapping]}


def _arrays_to_write(tensors):
    """{name: C-contiguous copy} of ``tensors``, or a one-line error naming the first tensor that a
    weights file cannot hold (a non-string name; an object, string, complex or datetime array)."""
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise ArgumentTypeError(f"save_weights(tensors): tensor names must be strings, got {short_repr(name)}")
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):
            array = None
        if array is None or array.dtype.newbyteorder("=") not in _WRITABLE:
            found = f"dtype {array.dtype}" if array is not None else type(value).__name__
            raise ArgumentTypeError(f"save_weights(tensors): tensor {_q(name)} has {found}; a weights file holds "
                                    f"float16/32/64, int8-64, uint8-64 or bool arrays")
        arrays[name] = array.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
    return arrays


def tensors_bytes(tensors, metadata=None):
    """The safetensors file for {name: array}, as bytes. Arrays are stored C-contiguous, bit for bit."""
    validate("save_weights", _CONSTRAINTS, {"tensors": tensors, "metadata": metadata})
    arrays = _arrays_to_write(tensors)
    st = _safetensors_numpy()
    return st.save(arrays, metadata={k: str(v) for k, v in (metadata or {}).items()})


def save_weights(tensors, path, metadata=None):
    """Write {name: array} to ``path`` atomically. Arrays are stored C-contiguous, bit for bit."""
    validate("save_weights", _CONSTRAINTS, {"path": path})
    atomic_write_bytes(path, tensors_bytes(tensors, metadata))


class _Header:
    """A parsed, validated header: ``spec`` {name: (shape, numpy dtype name)}, ``offsets``
    {name: (begin, end)} relative to ``data_start``, ``metadata`` {str: str}."""

    def __init__(self, spec, offsets, metadata, data_start):
        self.spec, self.offsets, self.metadata, self.data_start = spec, offsets, metadata, data_start


def _bad(path, why):
    return WeightsFileError(f"{path} is not a valid safetensors file ({why})")


def _parse_header(path):
    path = Path(path)
    try:  # (a folder, FIFO or device is named as such; a FIFO is opened without blocking)
        with open_regular(path, "weights file", WeightsFileError, expected="a safetensors file") as f:
            size = os.fstat(f.fileno()).st_size
            prefix = f.read(8)
            if len(prefix) < 8:
                raise _bad(path, f"header too small: the file has {size} bytes, fewer than the 8-byte length prefix")
            (n,) = struct.unpack("<Q", prefix)
            if n > MAX_HEADER_BYTES or 8 + n > size:
                raise _bad(path, f"header too large: it declares {n} bytes but the file has {size}")
            raw = f.read(n)
    except OSError as e:
        raise WeightsFileError(f"cannot read {path} ({e.strerror or type(e).__name__})") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _bad(path, "its header is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise _bad(path, f"its header is not valid JSON: {e.msg} at byte {e.pos}") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise _bad(path, f"its header is not valid JSON ({_short(str(e))})") from None
    except RecursionError:
        raise _bad(path, "its header's JSON is nested too deeply") from None
    if not isinstance(header, dict):
        raise _bad(path, f"its header must be a JSON object, found {type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise _bad(path, "__metadata__ must map strings to strings")
    spec, offsets = {}, {}
    for name, entry in header.items():
        shape, dtype, begin, end = _entry(path, name, entry)
        spec[name], offsets[name] = (shape, dtype), (begin, end)
    _check_tiling(path, offsets, size - 8 - n)
    return _Header(spec, offsets, metadata, 8 + n)


def _entry(path, name, entry):
    """(shape, dtype name, begin, end) of one tensor's header entry, checked."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        found = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise _bad(path, f"tensor {_q(name)} must have exactly dtype, shape and data_offsets, found {_short(found)}")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(code, str) or code not in DTYPES:
        raise _bad(path, f"tensor {_q(name)} has dtype {_short(code)!r}; readable dtypes: {', '.join(DTYPES)}")
    if not isinstance(shape, list) or len(shape) > MAX_DIMS or not all(_is_index(d) for d in shape):
        raise _bad(path, f"tensor {_q(name)} has shape {_short(shape)}, expected a list of at most {MAX_DIMS} "
                         "non-negative integers")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_index(o) for o in offsets)
            or offsets[0] > offsets[1]):
        raise _bad(path, f"tensor {_q(name)} has data_offsets {_short(offsets)}, expected [begin, end] with "
                         "0 <= begin <= end")
    dtype = np.dtype(DTYPES[code])
    nbytes = math.prod(shape) * dtype.itemsize  # Python integers: no overflow for any declared shape
    if offsets[1] - offsets[0] != nbytes:
        raise _bad(path, f"tensor {_q(name)} of shape {_short(tuple(shape))} and dtype {code} needs "
                         f"{_short(str(nbytes))} bytes but its data_offsets {_short(offsets)} span "
                         f"{offsets[1] - offsets[0]}")
    return tuple(shape), dtype.name, offsets[0], offsets[1]


def _is_index(x):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**63


def _q(name):
    """A tensor name for a message: quoted, and cut short if a hostile file made it huge."""
    return repr(_short(str(name)))


def _short(x, limit=60):
    text = x if isinstance(x, str) else repr(x)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check_tiling(path, offsets, data_bytes):
    position = 0
    for name, (begin, end) in sorted(offsets.items(), key=lambda item: item[1]):
        if begin != position:
            what = "overlaps the previous one" if begin < position else "leaves a gap before it"
            raise _bad(path, f"tensor {_q(name)} starts at byte {begin} of the data, which {what} "
                             f"(expected {position})")
        position = end
    if position != data_bytes:
        raise _bad(path, f"the header describes {position} bytes of tensor data but the file holds {data_bytes} "
                         "(truncated or padded)")


def read_header(path):
    """({name: (shape, dtype name)}, metadata) from the file's header, without reading tensor data."""
    header = _parse_header(path)
    return header.spec, header.metadata


def load_weights(path, expected=None):
    """Read {name: array} from ``path`` (each array writeable, C-contiguous, owning its memory).

    expected: optional {name: (shape, dtype)}; the file's header must list exactly these names
    with these shapes and dtypes, checked before any tensor is read.
    """
    validate("load_weights", _CONSTRAINTS, {"path": path, "expected": expected})
    if expected is not None:
        _check_expected(expected)
    header = _parse_header(path)
    if expected is not None:
        check_against(path, header.spec, expected)
    from safetensors import safe_open

    _safetensors_numpy()
    out = {}
    try:
        with safe_open(str(path), framework="numpy") as f:
            for name, (shape, dtype) in header.spec.items():
                t = f.get_tensor(name)
                if t.shape != tuple(shape) or t.dtype != np.dtype(dtype):  # the file changed since its header was read
                    raise _bad(path, f"tensor {_q(name)} changed while it was read")
                out[name] = np.array(t, dtype=dtype, order="C")  # writeable, owning its memory
    except WeightsFileError:
        raise
    except Exception as e:  # the safetensors package raises several types for a file that changed under it
        raise WeightsFileError(f"{path}: could not read tensor data ({type(e).__name__})") from None
    return out


def _check_expected(expected):
    """``expected`` must map each name to a (shape, dtype) pair."""
    for name, entry in expected.items():
        try:
            shape, dtype = entry
            ok = all(_is_index(n) for n in shape)
            np.dtype(dtype)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidArgumentError(f"load_weights(expected): expected {{name: (shape, dtype)}}, got "
                                       f"{short_repr(entry)} for {_q(name)}")


def check_against(path, spec, expected):
    """Raise WeightsFileError unless ``spec`` has exactly the names, shapes and dtypes of ``expected``."""
    missing = [k for k in expected if k not in spec]
    extra = [k for k in spec if k not in expected]
    if missing or extra:
        raise WeightsFileError(
            f"{path} does not fit the model: missing {_short(missing, 160) if missing else 'nothing'}, "
            f"unexpected {_short(extra, 160) if extra else 'nothing'}"
        )
    for name, (shape, dtype) in expected.items():
        f_shape, f_dtype = spec[name]
        if tuple(shape) != tuple(f_shape) or np.dtype(dtype) != np.dtype(f_dtype):
            raise WeightsFileError(
                f"{path}: tensor '{name}' has shape {tuple(f_shape)} and dtype {f_dtype}, "
                f"but the model expects shape {tuple(shape)} and dtype {np.dtype(dtype)}"
            )


def data_bytes(path):
    """Bytes of tensor data the file's (validated) header describes."""
    header = _parse_header(path)
    return sum(end - begin for begin, end in header.offsets.values())
