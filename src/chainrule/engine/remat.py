"""Gradient checkpointing (rematerialization): trade compute for memory.

``checkpoint(fn)`` returns a function that computes ``fn`` *without* recording its inner
operations: the reverse sweep keeps only the segment's inputs and output. When the sweep
reaches the segment, its VJP rule runs ``fn`` again under reverse mode to rebuild the
intermediate values it needs (Chen et al., 2016). Splitting L layers into √L segments
stores O(√L) activations instead of O(L), for about one extra forward pass.
"""

from __future__ import annotations

import numpy as np

from .core import dtype_of, shape_of
from .rules import defjvp_argnum, defvjp_all, primitive
from .transforms import jvp, vjp_once


def checkpoint(fn, name=None):
    """``fn(*arrays) -> array`` as a primitive whose backward pass recomputes ``fn``."""
    prim = primitive(f"checkpoint({name or getattr(fn, '__name__', 'fn')})", fn)

    def vjp(argnums, g, ans, *args):
        cts = vjp_once(fn, args, g)  # re-run fn, recording, and sweep it at once
        return [cts[i] for i in argnums]

    def tangent(i, t, ans, *args):
        tangents = [t if j == i else np.zeros(shape_of(a), dtype_of(a)) for j, a in enumerate(args)]
        return jvp(fn, args, tangents)[1]

    defvjp_all(prim, vjp)
    defjvp_argnum(prim, tangent)
    return prim
