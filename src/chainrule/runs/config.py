"""Reading a run configuration from a TOML file (the schema itself is in ``schema.py``)."""

from __future__ import annotations

import tomllib

from ..data.files import open_regular, shown
from ..errors import ConfigError
from .schema import complete

MAX_CONFIG_BYTES = 1 << 20  # a config file is a few hundred bytes


def load_config(path):
    """Read, validate and complete a config file; return a plain dict.

    A path that is not a regular file (a folder, a FIFO, a device) is reported as what it is."""
    with open_regular(path, "config file", ConfigError, max_bytes=MAX_CONFIG_BYTES) as handle:
        try:
            # one byte past the cap: a file that grew after the check is still refused
            data = handle.read(MAX_CONFIG_BYTES + 1)
        except OSError as e:
            raise ConfigError(f"cannot read {shown(path)} ({e.strerror or type(e).__name__})") from None
    name = shown(path)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {name} is more than {MAX_CONFIG_BYTES} bytes")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{name} is not valid TOML: {_first_line(e)}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{name} is not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    except RecursionError:
        raise ConfigError(f"{name} is not valid TOML: nested too deeply") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise ConfigError(f"{name} is not valid TOML: {_first_line(e)}") from None
    return complete(raw, source=name)


def _first_line(e):
    lines = str(e).strip().splitlines()
    return (lines[0] if lines else type(e).__name__)[:200]
