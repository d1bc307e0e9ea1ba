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
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import MissingRuleError

_levels = itertools.count(1)


class Trace:
    """One active transform. Subclasses implement ``process(prim, args, params)``."""

    __slots__ = ("level",)
    stages = False  # a staging trace (jit) records non-differentiable primitives too

    def __init__(self):
        self.level = next(_levels)

    def process(self, prim, args, params):  # pragma: no cover - abstract
        raise NotImplementedError


class Tracer:
    """A value being watched by one trace. Subclasses add the bookkeeping (node or tangent).

    Tracers behave like arrays: arithmetic operators, ``@``, indexing, ``.T``, ``.shape``,
    ``.sum()`` and plain ``np.`` calls (through ``__array_ufunc__``/``__array_function__``)
    all route to chainrule primitives. The operator methods are attached in ``array_api.py``.
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


class Primitive:
    """A differentiable NumPy operation: ``impl`` plus its VJP and JVP rules.

    Rules are registered with :func:`chainrule.extend.defvjp` / :func:`defjvp`:

    - ``vjps[i](g, ans, *args, **params)`` returns the cotangent for positional argument
      ``i`` given the output cotangent ``g``. It may return a value of the *broadcast*
      shape: the engine sums it back to the argument's shape in one place (``unbroadcast``).
    - ``jvps[i](x_dot, ans, *args, **params)`` returns the output tangent contributed by the
      tangent ``x_dot`` of argument ``i``; contributions of several arguments are added.

    Rules are written with chainrule primitives, so they are themselves differentiable:
    higher-order derivatives need no extra rules.
    """

    __slots__ = ("name", "impl", "vjps", "jvps", "vjp_all", "differentiable", "inline")

    def __init__(self, name, impl, differentiable=True):
        self.name = name
        self.impl = impl
        self.vjps = {}
        self.jvps = {}
        self.vjp_all = None
        self.differentiable = differentiable
        # inline(args, params) -> (lines, constants) or None: NumPy statements equal to impl for
        # arguments like these (same types, shapes, dtypes), which chainrule.jit writes into its
        # code instead of a call of impl. Lines use {out}, {a0}, {a1}, ... and the constants' names.
        self.inline = None

    def __call__(self, *args, **params):
        top = None
        for x in args:
            if isinstance(x, Tracer) and (top is None or x.trace.level > top.level):
                top = x.trace
        if top is None:
            return self.impl(*args, **params)
        if not self.differentiable:  # no derivative to track: strip the differentiating traces
            args = [_lower_to_staging(x) for x in args]
            staged = [x for x in args if isinstance(x, Tracer)]
            return staged[0].trace.process(self, args, params) if staged else self.impl(*args, **params)
        return top.process(self, args, params)

    def vjp_rule(self, argnum):
        rule = self.vjps.get(argnum)
        if rule is None:
            raise MissingRuleError(
                f"VJP of primitive '{self.name}' with respect to argument {argnum} is not defined"
            )
        return rule

    def jvp_rule(self, argnum):
        rule = self.jvps.get(argnum)
        if rule is None:
            raise MissingRuleError(
                f"JVP of primitive '{self.name}' with respect to argument {argnum} is not defined"
            )
        return rule

    def __repr__(self):
        return f"<primitive {self.name}>"


def lower(x):
    """Strip every layer of tracing from ``x`` (used by non-differentiable primitives)."""
    while isinstance(x, Tracer):
        x = x.value
    return x


class IndexingPrimitive(Primitive):
    """A primitive whose argument 1 is an index (getitem, scatter_add). An index tuple may hold a
    staged array (``z[rows, y]`` under chainrule.jit, y an input): then the staging trace must see
    the call even when no other argument is traced, or the index would become a constant."""

    __slots__ = ()

    def __call__(self, *args, **params):
        if len(args) > 1 and type(args[1]) in (tuple, list) and not any(isinstance(x, Tracer) for x in args):
            staged = next((i for i in args[1] if isinstance(i, Tracer)), None)
            if staged is not None:
                return staged.trace.process(self, args, params)
        return Primitive.__call__(self, *args, **params)


def _lower_to_staging(x):
    """``lower(x)``, except that a value being staged (jit) stays staged: a comparison or mask is
    part of the compiled program, not a constant of one call."""
    while isinstance(x, Tracer) and not x.trace.stages:
        x = x.value
    return x


def unwrap(x, trace):
    """The value of ``x`` one level below ``trace`` (``x`` itself if ``trace`` does not own it)."""
    if isinstance(x, Tracer) and x.trace is trace:
        return x.value
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
