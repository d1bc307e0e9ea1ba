"""Reading a run configuration from a TOML file (the schema itself is in ``schema.py``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import ConfigError
from .schema import complete

MAX_CONFIG_BYTES = 1 << 20  # a config file is a few hundred bytes


def load_config(path):
    """Read, validate and complete a config file; return a plain dict."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}" if not path.is_dir() else f"{path} is a folder, "
                          "not a config file")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} is {path.stat().st_size} bytes; a config file is at most {MAX_CONFIG_BYTES}")
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {_first_line(e)}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    except RecursionError:
        raise ConfigError(f"{path} is not valid TOML: nested too deeply") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise ConfigError(f"{path} is not valid TOML: {_first_line(e)}") from None
    except OSError as e:
        raise ConfigError(f"cannot read {path} ({e.strerror or type(e).__name__})") from None
    return complete(raw, source=str(path))


def _first_line(e):
    lines = str(e).strip().splitlines()
    return (lines[0] if lines else type(e).__name__)[:200]
