"""A folder's ``checksums.json``: the SHA-256 of its files, written last and atomically, verified on load.

    {"format": "chainrule-checksums", "sha256": {"model.json": "<hex>", "model.safetensors": "<hex>"}}

A flipped bit, a truncated file or an edited model.json no longer loads as a different model: it
is a one-line WeightsFileError naming the file. A folder written before checksums existed has
no such file; it still loads, with one ``UnverifiedFileWarning``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

from ..errors import WeightsFileError
from .atomic import atomic_write_bytes

NAME = "checksums.json"
FORMAT = "chainrule-checksums"
MAX_BYTES = 1 << 16  # a few names and hex digests


class UnverifiedFileWarning(UserWarning):
    """A saved folder has no checksums (written by an older chainrule): its files cannot be verified."""


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_checksums(directory, names):
    """Write ``directory/checksums.json`` for the files ``names`` (after they are in place)."""
    directory = Path(directory)
    sums = {"format": FORMAT, "sha256": {name: sha256_of(directory / name) for name in names}}
    atomic_write_bytes(directory / NAME, (json.dumps(sums, indent=1) + "\n").encode())


def read_checksums(directory):
    """{file name: hex digest} from ``directory/checksums.json``, or None (with a warning) if there is none."""
    path = Path(directory) / NAME
    if not path.exists():
        warnings.warn(f"{directory} has no {NAME} (saved by an older chainrule): its files are not verified; "
                      "save it again to add them", UnverifiedFileWarning, stacklevel=4)
        return None
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            raise WeightsFileError(f"{path} is not a checksum file (not a regular file of at most {MAX_BYTES} bytes)")
        sums = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WeightsFileError(f"{path} is not valid JSON") from None
    except OSError as e:
        raise WeightsFileError(f"cannot read {path} ({e.strerror or type(e).__name__})") from None
    table = sums.get("sha256") if isinstance(sums, dict) and sums.get("format") == FORMAT else None
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise WeightsFileError(f"{path} is not a chainrule checksum file (expected format {FORMAT!r} "
                               "with a 'sha256' table of file names and digests)")
    return table


def verify_checksums(directory, names, table, source=None):
    """WeightsFileError naming the first of ``names`` whose SHA-256 is not the one ``table``
    (``read_checksums``) records, or that it does not list; nothing if ``table`` is None.
    source: the file the table came from (default the folder's checksums.json)."""
    if table is None:
        return
    for name in names:
        if name not in table:  # (before reading the file)
            verify_digest(directory, name, None, table, source)
        verify_digest(directory, name, sha256_of(Path(directory) / name), table, source)


def verify_digest(directory, name, digest, table, source=None):
    """WeightsFileError unless ``digest`` (of bytes already read from ``directory/name``) is the
    one ``table`` records for ``name``; nothing if ``table`` is None. source: as verify_checksums."""
    if table is None:
        return
    path = Path(directory) / name
    if name not in table:
        raise WeightsFileError(f"{path} is not listed in {source or Path(directory) / NAME}: it cannot be verified")
    if digest != table[name]:
        fix = f"delete {NAME}, or save the model again" if source is None else "train the run again"
        raise WeightsFileError(f"{path} does not match its checksum in {Path(source).name if source else NAME}: "
                               f"corrupted or changed since it was saved (a file replaced on purpose: {fix})")
