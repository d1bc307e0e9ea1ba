"""A user's input file: how a message names it, and opening it only if it is a regular file.

A path is user input like any other: it may hold a newline, a NUL byte or a thousand
characters. ``shown(path)`` is the path as a message prints it: on one line, control characters
escaped as Python would (``'a\\nb'``), cut in the middle when long (the head and the tail are
what tell two paths apart). ``open_regular`` refuses what is not a regular file (a folder, a
FIFO that would block forever, ``/dev/zero`` behind a symbolic link) and a file over a size
cap, naming what the path is.
"""

from __future__ import annotations

import os
import stat

SHOWN = 120  # characters of a path in a message


def shown(path, limit: int = SHOWN) -> str:
    """``path`` for a message: as it is when every character is printable, else quoted with
    control characters and NUL escaped (``'a\\nb'``); at most ``limit`` characters (the middle
    replaced by '...')."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    if not text.isprintable() or text != text.strip() or not text:
        text = repr(text)
    if len(text) <= limit:
        return text
    keep = limit - 3
    return text[: keep - keep // 2] + "..." + text[-(keep // 2):]


def kind(mode: int) -> str:
    """What a stat mode is, as a message says it ('a folder', 'a FIFO (named pipe)', ...)."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a file"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def describe_missing(path) -> str:
    """Why ``path`` cannot be opened, when ``os.stat`` fails: 'not found', a broken link, ..."""
    if "\0" in os.fspath(path):
        return "holds a NUL byte, which no file name can"
    if os.path.islink(path):
        return "is a symbolic link to a file that does not exist"
    try:
        os.stat(path)
    except FileNotFoundError:
        return "not found"
    except NotADirectoryError:
        return "not found (a part of it is a file, not a folder)"
    except PermissionError:
        return "cannot be reached (no permission to a folder on the way)"
    except OSError as e:
        return f"cannot be read ({e.strerror or type(e).__name__})"
    return "not found"


def open_regular(path, what: str, error, max_bytes: int | None = None, limit_hint: str = "",
                 expected: str = "a regular file"):
    """Open ``path`` for reading in binary mode, if it is a regular file of at most ``max_bytes``.

    ``what`` names the file in messages ('config file x.toml is a FIFO ...'; with ``what=''``
    the message starts with the path: 'x.csv: is a FIFO ...'); ``expected`` says what it should
    have been ('a CSV file'); ``error`` is the exception class to raise (ConfigError, DataError).
    The file is opened without blocking and checked on the open descriptor, so a FIFO swapped
    in after a check cannot block the reader.
    """
    text = os.fspath(path)

    def fail(problem):
        return error(f"{what} {shown(text)} {problem}" if what else f"{shown(text)}: {problem}")

    if "\0" in text:
        raise fail("holds a NUL byte, which no file name can")
    try:
        fd = os.open(text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise fail(f"is a directory, expected {expected}") from None
    except FileNotFoundError:
        missing = describe_missing(text)
        if missing == "not found":
            raise error(f"{what} not found: {shown(text)}" if what else f"{shown(text)}: file not found") from None
        raise fail(missing) from None
    except PermissionError:
        raise fail("cannot be read: no permission") from None
    except OSError as e:
        raise fail(f"cannot be opened ({e.strerror or type(e).__name__})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"is {kind(info.st_mode)}, expected {expected}")
        if max_bytes is not None and info.st_size > max_bytes:
            raise fail(f"is {info.st_size} bytes, more than the {max_bytes} allowed{limit_hint}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return handle
