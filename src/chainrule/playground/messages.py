"""What the page may send: each message type with its fields, checked before anything runs.

``parse(text)`` returns a checked dict or raises ``ConfigError`` with one line naming the field,
what was expected and what was found (the server answers it with an ``error`` message).
"""

from __future__ import annotations

import json

from ..errors import ConfigError
from .settings import LIMITS, _short, boolean, number, only_keys

# type -> its fields besides "type" and "id" (values are checked by the handlers' own checks below)
FIELDS = {"settings": ("settings",), "play": (), "pause": (), "step": ("n",), "reset": (), "regenerate": (),
          "set_weight": ("layer", "param", "row", "col", "value"), "backprop": ("point", "target"),
          "upload": ("csv", "problem"), "add_point": ("point", "target"), "rewind": ("snapshot",),
          "view": ("backward",)}
REQUIRED = {"settings": ("settings",), "set_weight": ("layer", "param", "row", "value"), "backprop": ("point",),
            "upload": ("csv",), "add_point": ("point", "target"), "rewind": ("snapshot",), "view": ("backward",)}
COORDINATE = 1e6  # |x1|, |x2| of a point the page sends


def parse(text):
    if len(text) > LIMITS["max_message_bytes"]:
        raise ConfigError(f"message of {len(text)} characters, more than the {LIMITS['max_message_bytes']} allowed")
    try:
        message = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise ConfigError(f"a message must be a JSON object, found invalid JSON ({str(e)[:80]})") from None
    if not isinstance(message, dict):
        raise ConfigError(f"a message must be a JSON object, found {type(message).__name__}")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in FIELDS:
        raise ConfigError(f"unknown message type {_short(kind)}; valid types: {', '.join(FIELDS)}")
    try:
        _check(message, kind)
    except ConfigError as e:
        e.request = kind  # the error names the message it answers, and carries its id when that is valid
        ident = message.get("id")
        if isinstance(ident, str | int) and not isinstance(ident, bool) and len(str(ident)) <= 64:
            e.ident = ident
        raise
    return message


def _check(message, kind):
    only_keys(message, ("type", "id", *FIELDS[kind]), f"a {kind} message")
    if "id" in message and not (isinstance(message["id"], str | int) and not isinstance(message["id"], bool)
                                and len(str(message["id"])) <= 64):
        raise ConfigError(f"id must be a string or integer of at most 64 characters, found {_short(message['id'])}")
    missing = [f for f in REQUIRED.get(kind, ()) if f not in message]
    if missing:
        raise ConfigError(f"a {kind} message needs the field {missing[0]}")
    CHECKS.get(kind, lambda m: None)(message)


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def point(message):
    p = message["point"]
    if not (isinstance(p, list) and len(p) == 2):
        raise ConfigError(f"point must be [x1, x2], found {_short(p)}")
    for i in range(2):
        _coordinate(p, i)
    return [float(p[0]), float(p[1])]


def _coordinate(p, i):
    v = p[i]
    if isinstance(v, bool) or not isinstance(v, int | float) or not abs(v) <= COORDINATE:
        raise ConfigError(f"point[{i}] must be a finite number in [-{COORDINATE:g}, {COORDINATE:g}], found {_short(v)}")


def target(message, key="target"):
    number(message, key, -COORDINATE, COORDINATE)
    return message[key]


def _step(m):
    if "n" in m:
        number(m, "n", 1, 1000, integer=True)


def _set_weight(m):
    number(m, "layer", 0, LIMITS["max_hidden_layers"], integer=True)
    if m["param"] not in ("weight", "bias"):
        raise ConfigError(f"param must be weight or bias, found {_short(m['param'])}")
    number(m, "row", 0, LIMITS["max_units"] * 10, integer=True)
    if m["param"] == "weight" or "col" in m:
        if "col" not in m:
            raise ConfigError("a set_weight message for a weight needs the field col")
        number(m, "col", 0, LIMITS["max_units"] * 10, integer=True)
    number(m, "value", -100, 100)


def _backprop(m):
    point(m)
    if "target" in m:
        target(m)


def _upload(m):
    if not isinstance(m["csv"], str):
        raise ConfigError(f"csv must be the file's text, found {type(m['csv']).__name__}")
    size = len(m["csv"].encode("utf-8", "surrogatepass"))
    if size > LIMITS["max_upload_bytes"]:
        raise ConfigError(f"the uploaded CSV has {size} bytes, more than the {LIMITS['max_upload_bytes']} allowed")
    if "problem" in m and m["problem"] not in ("classification", "regression"):
        raise ConfigError(f"problem must be classification or regression, found {_short(m['problem'])}")


def _add_point(m):
    point(m)
    target(m)


def _rewind(m):
    number(m, "snapshot", 0, 1 << 30, integer=True)


def _view(m):
    boolean(m, "backward")


CHECKS = {"step": _step, "set_weight": _set_weight, "backprop": _backprop, "upload": _upload,
          "add_point": _add_point, "rewind": _rewind, "view": _view}
