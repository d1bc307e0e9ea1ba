"""Primitives, tracers and traces: the dispatch at the heart of the engine.

A *primitive* is a NumPy function that the engine knows how to differentiate. Calling one
with plain arrays calls NumPy directly (the fast path). Calling one with a *tracer* (a value
being watched by a transform such as ``grad`` or ``jvp``) hands the call to that tracer's
*trace*, which records it (reverse mode) or pushes a tangent through it (forward mode).

Every transform invocation opens a new trace with a fresh, strictly increasing ``level``.
When a primitive sees tracers of several traces (nested transforms), the trace with the
highest level handles the call, unwrapping only its own tracers; the rest stay wrapped and
are handled when the primitive is re-applied one level down. Tagging values with the trace
that created them is what prevents *perturbation confusion* (Siskind & Pearlmutter, 2005).
A primitive with no derivative (a comparison, a mask) goes to ``Trace.process_constant``
instead, which by default just passes the call down to the next trace.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import MissingRuleError

_levels = itertools.count(1)


class Trace:
    """One active transform. Subclasses implement ``process(prim, args, params)``."""

    __slots__ = ("level",)

    def __init__(self):
        self.level = next(_levels)

    def process(self, prim, args, params):  # pragma: no cover - abstract
        raise NotImplementedError

    def process_constant(self, prim, args, params):
        """A primitive with no derivative (a comparison, a mask): a trace that differentiates has
        nothing to add, so it drops its own tracers and hands the call to the traces below it. A
        trace that records the computation itself (jit's) overrides this to record the call too."""
        return prim(*[x.value if isinstance(x, Tracer) and x.trace is self else x for x in args], **params)


class Tracer:
    """A value being watched by one trace. Subclasses add the bookkeeping (node or tangent).

    Tracers behave like arrays: arithmetic operators, ``@``, indexing, ``.T``, ``.shape``,
    ``.sum()`` and plain ``np.`` calls (through ``__array_ufunc__``/``__array_function__``)
    all route to chainrule primitives. The operator methods are attached by
    ``chainrule/numpy/tracer_methods.py`` (they are chainrule.numpy functions, which sit above the engine).
    """

    __slots__ = ("value", "trace")
    __array_priority__ = 100.0

    @property
    def shape(self):
        return np.shape(self.value)

    @property
    def ndim(self):
        return np.ndim(self.value)

    @property
    def size(self):
        return np.size(self.value)

    @property
    def dtype(self):
        return np.result_type(self.value)

    def __len__(self):
        return len(self.value)

    def __bool__(self):
        raise TypeError(
            "the truth value of a traced array is not differentiable; "
            "use cnp.where(condition, a, b) instead of if/else on a traced value"
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"a traced value (under {type(self.trace).__name__}) cannot be converted to a "
            "NumPy array: this would silently cut it out of the derivative. Use chainrule.numpy "
            "functions, or read the plain value after the transform returns"
        )

    def __float__(self):
        raise TypeError(
            "float() of a traced value would cut it out of the derivative; "
            "use chainrule.stop_gradient(x) if that is what you mean"
        )

    def __repr__(self):
        return f"{type(self).__name__}(level={self.trace.level}, value={self.value!r})"


def _missing_vjp(prim):
    def vjp(argnums, g, ans, args, params):
        raise MissingRuleError(f"VJP of primitive '{prim.name}' with respect to argument {argnums[0]} is not defined")

    return vjp


def _missing_jvp(prim):
    def jvp(argnums, tangents, ans, args, params):
        raise MissingRuleError(f"JVP of primitive '{prim.name}' with respect to argument {argnums[0]} is not defined")

    return jvp


class Primitive:
    """A differentiable NumPy operation: ``impl`` plus one VJP and one JVP rule.

    The rule protocol (HIPS autograd's ``defvjp_argnums``; register rules with ``chainrule.extend``,
    whose per-argument forms are sugar over it):

    - ``vjp(argnums, g, ans, args, params)`` returns one cotangent per argument number in
      ``argnums`` (``None`` for a zero one), given the output cotangent ``g``, the output ``ans``,
      the arguments (a tuple) and the options (a dict). A cotangent may have the *broadcast*
      shape: the engine sums it back to the argument's shape in one place.
    - ``jvp(argnums, tangents, ans, args, params)`` returns the output tangent for the tangents
      of the arguments ``argnums`` (``None`` if it is zero).

    Rules are written with chainrule primitives, so they are themselves differentiable:
    higher-order derivatives need no extra rules.
    """

    __slots__ = ("name", "impl", "vjp", "jvp", "differentiable")

    def __init__(self, name, impl, differentiable=True):
        self.name = name
        self.impl = impl
        self.differentiable = differentiable
        self.vjp = _missing_vjp(self)
        self.jvp = _missing_jvp(self)

    def __call__(self, *args, **params):
        top = None
        for x in args:
            if isinstance(x, Tracer) and (top is None or x.trace.level > top.level):
                top = x.trace
        if top is None:
            return self.impl(*args, **params)
        if self.differentiable:
            return top.process(self, args, params)
        return top.process_constant(self, args, params)

    def __repr__(self):
        return f"<primitive {self.name}>"


def lower(x):
    """Strip every layer of tracing from ``x``."""
    while isinstance(x, Tracer):
        x = x.value
    return x


def dtype_of(x):
    """The dtype of a (possibly traced) value."""
    if type(x) is np.ndarray:
        return x.dtype
    return np.result_type(lower(x))


def shape_of(x):
    """The shape of a (possibly traced) value."""
    if type(x) is np.ndarray:
        return x.shape
    return np.shape(lower(x))
