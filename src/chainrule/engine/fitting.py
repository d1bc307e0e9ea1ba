"""Where the engine fits a cotangent (tangent) to the shape and dtype of its argument (output).

A VJP rule may return a cotangent of the broadcast shape; the sweep sums it back to the shape of
the argument it belongs to, in one place (autograd's ``unbroadcast``). Summing a traced cotangent
needs the ``sum`` primitive, which sits above the engine, so the primitives layer installs the two
functions here when it is imported (``chainrule/primitives/broadcast.py``): the engine calls them
and imports nothing above itself.
"""

from __future__ import annotations


def _not_installed(*_):  # pragma: no cover - chainrule/__init__ always imports the primitives
    raise RuntimeError("chainrule.primitives.broadcast was not imported: cannot fit a cotangent's shape")


unbroadcast = _not_installed  # (g, target) -> g summed to target's shape, cast to its dtype
broadcast_tangent = _not_installed  # (t, ans) -> t expanded to ans's shape and dtype


def install(unbroadcast_fn, broadcast_tangent_fn):
    global unbroadcast, broadcast_tangent
    unbroadcast, broadcast_tangent = unbroadcast_fn, broadcast_tangent_fn
