"""Binary messages to the page: a JSON header and float32 arrays (docs/playground-protocol.md).

Layout: uint32 LE header length H, H bytes of UTF-8 JSON, zero padding to a multiple of 8, then
the arrays as little-endian float32, back to back, each at the offset its header entry gives
(relative to the start of the array block).
"""

from __future__ import annotations

import json
import struct

import numpy as np


def pack(kind, arrays, **fields):
    """bytes of a binary message: ``arrays`` is a list of (name, array); ``fields`` go in the header."""
    entries, blocks, offset = [], [], 0
    for name, a in arrays:
        block = np.ascontiguousarray(a, dtype="<f4")
        entries.append({"name": name, "shape": list(block.shape), "offset": offset})
        blocks.append(block.tobytes())
        offset += block.nbytes
    header = json.dumps({"kind": kind, **fields, "arrays": entries}, allow_nan=False).encode()
    start = 4 + len(header)
    padding = b"\0" * (-start % 8)
    return struct.pack("<I", len(header)) + header + padding + b"".join(blocks)


def unpack(message):
    """(header, {name: float32 array}) of a message made by ``pack`` (for tests and the benchmark)."""
    (h,) = struct.unpack_from("<I", message, 0)
    header = json.loads(message[4:4 + h].decode())
    start = 4 + h + (-(4 + h) % 8)
    arrays = {}
    for entry in header["arrays"]:
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        a = np.frombuffer(message, dtype="<f4", count=count, offset=start + entry["offset"])
        arrays[entry["name"]] = a.reshape(entry["shape"])
    return header, arrays


def finite(x):
    """A float for a JSON header: None for NaN or infinity (JSON has neither)."""
    x = float(x)
    return x if np.isfinite(x) else None


def grid_points(extent, size):
    """The G×G grid over [−extent, extent]² as (G², 2) points, rows = x2 from top (+extent) down."""
    ticks = np.linspace(-extent, extent, size)
    x1, x2 = np.meshgrid(ticks, ticks[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])
