"""Helpers for the playground's server tests: a socket client that tells JSON from binary answers."""

from __future__ import annotations

import json

from chainrule.playground.frames import unpack

OPENING = ("hello", "network", "data", "frame", "timeline", "warnings")


def receive(ws):
    """The next message: ('json', dict) or (kind of binary message, (header, arrays))."""
    m = ws.receive()
    if m.get("bytes") is not None:
        header, arrays = unpack(m["bytes"])
        return header["kind"], (header, arrays)
    if m.get("text") is not None:
        return "json", json.loads(m["text"])
    raise AssertionError(f"unexpected event {m}")


def until(ws, want, limit=50):
    """Read until a message of type/kind ``want``; return it (JSON dict or (header, arrays))."""
    for _ in range(limit):
        kind, value = receive(ws)
        if kind == want or (kind == "json" and value["type"] == want):
            return value
    raise AssertionError(f"no {want} message in {limit} messages")


def opened(ws):
    """Read the opening messages; return {type: message} (binary ones as (header, arrays))."""
    out = {}
    for _ in range(len(OPENING)):
        kind, value = receive(ws)
        out[value["type"] if kind == "json" else kind] = value
    assert set(OPENING) <= set(out), sorted(out)
    return out


def send(ws, message):
    ws.send_text(json.dumps(message))


def step(ws, n):
    """Train n steps; (header, arrays) of the answering frame."""
    send(ws, {"type": "step", "n": n})
    frame = until(ws, "frame")
    until(ws, "timeline")
    return frame
