"""Output paths checked before any work starts: the run folder, ``predict -o``, ``--out`` folders.

Training for an hour and then failing at the first save because ``checkpoints`` is a file, or
the folder name is 300 bytes long, wastes the hour. Each check walks the path as the operating
system will: every component at most ``NAME_MAX`` bytes, no NUL byte, every existing ancestor a
folder, the nearest existing one writable, and the names a run writes inside its folder free
for what they will be. A failure is a ConfigError naming the path (``shown``: escaped, long
paths cut in the middle) and what it is.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..data.files import kind, shown
from ..errors import ConfigError

NAME_MAX = 255  # bytes in one path component (Linux, macOS, Windows)
PATH_MAX = 4096  # bytes in a whole path (Linux)

# What a run writes inside its folder, and whether each is a folder (True) or a file: a name
# taken by the wrong kind fails before training, not at the save after it (a test runs a run
# with every output on and checks that this list names everything it wrote).
RUN_ENTRIES = {"checkpoints": True, "model": True, "config.json": False, "manifest.json": False,
               "metrics.csv": False, "preprocessing.json": False, "gradcheck.txt": False, ".lock": False,
               "loss.png": False, "decision_boundary.png": False, "fit.png": False, "gradient_norms.png": False,
               "dynamics.png": False}


def _fail(what, path, problem):
    raise ConfigError(f"{what} {shown(path)}: {problem}")


def _check_text(what, path):
    text = os.fspath(path)
    if not text:
        _fail(what, text, "is empty")
    if "\0" in text:
        _fail(what, text, "holds a NUL byte, which no path can")
    try:
        raw = os.fsencode(text)
    except UnicodeEncodeError:
        _fail(what, text, "holds characters the file system cannot encode")
    if len(raw) > PATH_MAX:
        _fail(what, text, f"is {len(raw)} bytes long; a path is at most {PATH_MAX}")
    for part in Path(text).parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            _fail(what, text, f"the name {shown(part, 40)} is {size} bytes; a file or folder name is at most "
                              f"{NAME_MAX}")
    return Path(text)


def _nearest_existing(path):
    """(the deepest ancestor of ``path`` that exists, or path itself; its stat result)."""
    for candidate in (path, *path.parents):
        try:
            return candidate, os.stat(candidate)
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            continue  # an ancestor is a file: found further up
        except PermissionError:
            return candidate, None
    return path, None


def check_folder(path, what="output folder"):
    """``path`` is, or can be created as, a folder this process can write into. Returns it as a Path."""
    path = _check_text(what, path)
    found, info = _nearest_existing(path)
    if info is None:
        _fail(what, path, f"no permission to look into {shown(found)}")
    if not stat.S_ISDIR(info.st_mode):
        if found == path:
            _fail(what, path, f"is {kind(info.st_mode)}, not a folder")
        _fail(what, path, f"{shown(found)} is {kind(info.st_mode)}, not a folder")
    if not os.access(found, os.W_OK | os.X_OK):
        _fail(what, path, f"no permission to write in {shown(found)}")
    return path


def check_file(path, what="output file"):
    """``path`` is a file this process can write: its folder exists and is writable, and it is
    not a folder itself. A mistyped folder is an error, not a new folder tree. Returns a Path."""
    path = _check_text(what, path)
    folder = path.parent
    try:
        info = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):
        _fail(what, path, f"the folder {shown(folder)} does not exist (create it first, or write elsewhere)")
    except PermissionError:
        _fail(what, path, f"no permission to look into {shown(folder)}")
    if not stat.S_ISDIR(info.st_mode):
        _fail(what, path, f"{shown(folder)} is {kind(info.st_mode)}, not a folder")
    if os.path.isdir(path):
        _fail(what, path, f"is a folder; give a file name, e.g. {shown(path / 'predictions.csv')}")
    if os.path.exists(path) and not os.path.isfile(path):
        _fail(what, path, f"is {kind(os.stat(path).st_mode)}, not a file to write")
    if not os.access(folder, os.W_OK | os.X_OK):
        _fail(what, path, f"no permission to write in {shown(folder)}")
    return path


def check_run_folder(run_dir, resume=False):
    """Before a run is built: its folder can be created (or, resuming, is a folder) and every
    name the run writes inside it is free for what it will be."""
    what = "run folder"
    run_dir = check_folder(run_dir, what)
    if resume and not run_dir.is_dir():
        _fail(what, run_dir, "not found")
    for name, is_folder in RUN_ENTRIES.items():
        entry = run_dir / name
        if not os.path.lexists(entry):
            continue
        try:
            mode = os.stat(entry).st_mode
        except OSError:
            _fail(what, run_dir, f"{name} is a broken link or cannot be read; remove it")
        if stat.S_ISDIR(mode) != is_folder or not (is_folder or stat.S_ISREG(mode)):
            wanted = "a folder" if is_folder else "a file"
            _fail(what, run_dir, f"{name} is {kind(mode)}, but the run writes {wanted} there; move it away")
    return run_dir
