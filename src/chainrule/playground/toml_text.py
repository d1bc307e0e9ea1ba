"""A run config as TOML text: every string an escaped TOML basic string, every number a literal.

Only the shapes a run config has: tables of strings, booleans, integers, floats and flat lists
of those. Nothing a user typed can end a string early or add a key."""

from __future__ import annotations

import math

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def string(text):
    out = []
    for c in str(text):
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF:
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0xD800 else "\\ufffd")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML config: {v} is not a finite number")
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"TOML config: cannot write a {type(v).__name__}")


def _key(k):
    return k if k.replace("_", "").isalnum() and k.isascii() else string(k)


def dumps(config, comment=""):
    """``config``: {key: value or {key: value}} -> TOML text, top-level keys first."""
    lines = [f"# {line}" for line in comment.splitlines()]
    tables = []
    for k, v in config.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{_key(k)} = {value(v)}")
    for name, table in tables:
        lines += ["", f"[{_key(name)}]"] + [f"{_key(k)} = {value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"
