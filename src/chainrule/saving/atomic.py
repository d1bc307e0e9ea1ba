"""Atomic file writes: write a temporary file beside the target, fsync it, rename it over.

``os.replace`` is atomic on POSIX, so readers see the old file or the new one, never a mix.
The temporary file is made private (mode 0600) by ``tempfile``; before it is renamed it gets the
mode any other tool would give a new file, ``0666`` less the process's umask (0644 under the
usual umask 022).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..errors import ArgumentTypeError


def atomic_write_bytes(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # POSIX; elsewhere mkstemp's mode is the platform's default
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_json(path, obj):
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n").encode())


def _json_default(x):
    import numpy as np

    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise ArgumentTypeError(f"cannot write {type(x).__name__} to JSON")


def _umask():
    """The process's umask. Linux shows it in /proc (reading it through os.umask means setting it
    for a moment, which another thread could observe); elsewhere that is the only way."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
