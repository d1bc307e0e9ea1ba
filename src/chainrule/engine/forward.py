"""Forward mode: carry a tangent beside every value (dual numbers, seed 003).

Each primitive applied to a :class:`Dual` computes its output and, by its JVP rule, the
output's tangent: the directional derivative along the input tangents. One forward pass
gives one Jacobian-vector product J·v, which is cheap when there are few inputs.
"""

from __future__ import annotations

import numpy as np

from . import fitting
from .core import Trace, Tracer


class Dual(Tracer):
    """A traced value in forward mode: a primal ``value`` and its ``tangent``."""

    __slots__ = ("tangent",)

    def __init__(self, value, trace, tangent):
        self.value = value
        self.trace = trace
        self.tangent = tangent


class ForwardTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        values = []
        argnums = []
        tangents = []
        for i, x in enumerate(args):
            if type(x) is Dual and x.trace is self:
                values.append(x.value)
                argnums.append(i)
                tangents.append(x.tangent)
            else:
                values.append(x)
        ans = prim(*values, **params)
        out_dot = prim.jvp(tuple(argnums), tangents, ans, values, params)
        if out_dot is None:
            return ans
        # The common case (same shape and dtype) skips broadcast_tangent's general path.
        if not (type(out_dot) is np.ndarray and type(ans) is np.ndarray and out_dot.shape == ans.shape
                and out_dot.dtype == ans.dtype):
            out_dot = fitting.broadcast_tangent(out_dot, ans)
        return Dual(ans, self, out_dot)
