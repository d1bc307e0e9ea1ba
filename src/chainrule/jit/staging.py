"""Staging: run a function once on example arrays and record every primitive it applies, as a
program (``ir.py``) that ``codegen.py`` turns into straight-line NumPy code (what ``chainrule.jit`` replays).

Tracing is *by example*: each staged value carries its concrete array, so the first call computes
its real result while it records. Every primitive applied to a staged value becomes one
equation ``v7 = dense(v0, v1, v2, activation='relu')``; values that depend on no input (a row
of ones, the seed cotangent 1.0, ``1/B``) are computed once and become constants. Because
reverse mode is itself a sequence of primitive applications (the VJP rules are written in
chainrule ops), staging ``value_and_grad(f)`` records the forward pass *and* the backward sweep:
the program is backpropagation unrolled into plain code, which ``Program.source`` shows.

What cannot be staged fails loudly at trace time: Python control flow on a traced value
(``if x > 0``), converting one to NumPy or float, or closing over a value traced by an outer
transform. Side effects are not recorded: a function that draws random numbers or updates
state must not be staged (``chainrule.jit`` documents this; the Trainer stages pure models only).
"""

from __future__ import annotations

import bisect

import numpy as np

from ..engine.core import Trace, Tracer
from ..engine.tree import flatten, leaf_paths, unflatten
from ..errors import StagingError
from ..primitives.shape import getitem_p, scatter_add_p
from .ir import Equation, Program, vars_of
from .lowering import LOWERINGS


class StagedTracer(Tracer):
    """A value being recorded: its example array plus the number of the variable that holds it."""

    __slots__ = ("var",)

    def __bool__(self):
        raise StagingError(
            "jit: Python control flow on a traced value (if/while/and/or on an array) cannot be compiled "
            "into straight-line code; use chainrule.numpy.where(condition, a, b), or call the function without jit"
        )

    def __float__(self):
        raise StagingError("jit: float() of a traced value would bake one call's number into the compiled code; "
                           "return the array and convert it after the call")

    def __array_function__(self, func, types, args, kwargs):
        try:
            return Tracer.__array_function__(self, func, types, args, kwargs)
        except StagingError:
            raise
        except TypeError as e:  # a NumPy function chainrule does not know: not stageable either
            raise StagingError(_unsupported(e)) from None

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        try:
            return Tracer.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)
        except StagingError:
            raise
        except TypeError as e:
            raise StagingError(_unsupported(e)) from None

    def __setitem__(self, index, value):
        raise StagingError("jit: assignment into a traced array (x[i] = ...) cannot be compiled; build the result "
                           "with chainrule.numpy.where or concatenate")

    def __int__(self):
        raise StagingError("jit: int() of a traced value would bake one call's number into the compiled code")

    __index__ = __int__

    def item(self, *args):
        raise StagingError("jit: .item() of a traced value would bake one call's number into the compiled code")

    def tolist(self):
        raise StagingError("jit: .tolist() of a traced value would bake one call's numbers into the compiled code")

    def __array__(self, dtype=None, copy=None):
        raise StagingError("jit: a traced value cannot be converted to a NumPy array (np.asarray, np.array) inside "
                           "a compiled function; use chainrule.numpy functions, or call the function without jit")


def _unsupported(error):
    text = str(error).replace("is not differentiable by chainrule", "cannot be compiled by chainrule.jit")
    return text if text.startswith("jit:") else f"jit: {text}"


class StagingTrace(Trace):
    """Records the primitives applied to its tracers, in order, while computing them on the examples.

    ``lowered[n]`` holds the NumPy statements (``lowering.py``) for the equation that computes
    variable ``n``, when its primitive has a rule that applies to these example arguments."""

    __slots__ = ("eqns", "count", "lowered")

    def __init__(self):
        super().__init__()
        self.eqns = []
        self.count = 0
        self.lowered = {}

    def new_var(self, value):
        t = StagedTracer.__new__(StagedTracer)
        t.value, t.trace, t.var = value, self, self.count
        self.count += 1
        return t

    def process(self, prim, args, params):
        for key, value in params.items():
            if isinstance(value, Tracer):
                raise StagingError(f"jit: the option {key}= of '{prim.name}' is a traced value; options are "
                                   "constants of the compiled code (pass plain numbers)")
        if prim is getitem_p or prim is scatter_add_p:
            _check_index(prim, args[1:])
        ins, values = [], []
        for x in args:
            spec, value = self._input(prim, x)
            ins.append(spec)
            values.append(value)
        out = prim.impl(*values, **params)
        if isinstance(out, tuple | list):
            raise StagingError(f"jit: primitive '{prim.name}' returns several values; it cannot be staged")
        if prim.impl in _ARITHMETIC and len(args) == 2 and not params:
            ins = _uniform_constants(ins, values, out)
        t = self.new_var(out)
        lowering = LOWERINGS.get(prim)
        if lowering is not None:
            statements = lowering(values, params)
            if statements is not None:
                self.lowered[t.var] = statements
        self.eqns.append(Equation(prim, ins, params, t.var))
        return t

    # A comparison or mask depends on the data: it is part of the program, not a constant of one call.
    process_constant = process

    def _input(self, prim, x):
        if isinstance(x, Tracer):
            if x.trace is not self:
                raise StagingError(
                    f"jit: '{prim.name}' received a value traced by an outer transform "
                    f"({type(x.trace).__name__}); pass it to the compiled function as an argument instead of "
                    "closing over it")
            return ("var", x.var), x.value
        if type(x) in (tuple, list) and any(isinstance(e, Tracer) for e in x):  # an index such as (rows, y)
            parts = [self._input(prim, e) for e in x]
            return ("seq", type(x), [s for s, _ in parts]), type(x)(v for _, v in parts)
        return ("const", x), x


# Correctly rounded operations: a result bit depends on the two operands only, not on the loop
# (broadcast or not) that computed it.
_ARITHMETIC = (np.add, np.subtract, np.multiply, np.true_divide)


def _uniform_constants(ins, values, out):
    """In a binary ufunc whose result has the shape of its traced operand, a constant array with
    one value throughout (the folded cotangent of a mean: 1/B everywhere) becomes a 0-d array:
    the same products, without broadcasting a (batch, 1) column at every call."""
    specs = list(ins)
    for i, (spec, value) in enumerate(zip(ins, values)):
        other = values[1 - i]
        if (spec[0] == "const" and type(value) is np.ndarray and value.size > 1 and ins[1 - i][0] == "var"
                and type(other) is np.ndarray and np.shape(out) == other.shape and value.dtype.kind == "f"
                and value.dtype.itemsize in (2, 4, 8)
                and _one_value(value)):
            specs[i] = ("const", np.asarray(value.flat[0], value.dtype))
    return specs


def _one_value(a):
    """Every entry of ``a`` has the same bits (so -0.0 and 0.0 count as different)."""
    bits = np.ascontiguousarray(a).view(f"u{a.dtype.itemsize}").reshape(-1)
    return bool((bits == bits[0]).all())


def _check_index(prim, index):
    for i in index:
        if isinstance(i, Tracer) and np.result_type(i.value) == np.bool_:
            raise StagingError(f"jit: '{prim.name}' with a traced boolean mask: the result's shape would depend on "
                               "the data; use chainrule.numpy.where(mask, x, 0) instead")


def stage(fn, args, kwargs, dynamic):
    """Trace ``fn(*args, **kwargs)``; leaves of ``args`` for which ``dynamic`` holds become inputs.

    Returns ``(program, lowered, result)``: the IR, the NumPy statements of its lowered equations
    (``StagingTrace.lowered``), and ``result``, the value of this call, computed while recording.
    """
    trace = StagingTrace()
    tree = (args, kwargs) if kwargs else args
    leaves, treedef = flatten(tree)
    in_vars, in_labels, traced = [], [], []
    paths = leaf_paths(tree)
    for j, x in enumerate(leaves):
        if dynamic(x):
            t = trace.new_var(x)
            in_vars.append(t.var)
            in_labels.append(f"argument {_argument(paths[j])} {x.shape} {x.dtype}")
            traced.append(t)
        else:
            traced.append(x)
    rebuilt = unflatten(treedef, traced)
    a, k = rebuilt if kwargs else (rebuilt, {})
    out = fn(*a, **k)
    out_leaves, out_treedef = flatten(out)
    for y in out_leaves:
        if isinstance(y, Tracer) and y.trace is not trace:
            raise StagingError(f"jit: the function returned a value traced by {type(y.trace).__name__}, "
                               "which the compiled code cannot produce")
        if not isinstance(y, Tracer | np.ndarray | np.generic | bool | int | float | complex | str | type(None)):
            raise StagingError(f"jit: the function returned a {type(y).__name__}; return arrays, numbers, or "
                               "dicts, lists and tuples of them")
    name = getattr(fn, "__name__", "function")
    # An output that is an input, or a view of one (reshape(x)), is returned as a copy: the caller's
    # arrays are never handed back to write into (as the eager transforms copy what they return).
    arrays = [x for x in leaves if dynamic(x)]
    overlaps = _MemoryIndex(arrays)
    copied = {y.var for y in out_leaves if isinstance(y, Tracer) and isinstance(y.value, np.ndarray)
              and overlaps.touches(y.value)}
    if not all(x.flags.c_contiguous for x in arrays):  # another layout may turn a copy into a view next
        made_by = {eqn.out: eqn.prim.name for eqn in trace.eqns}  # time: copy what a view-making op returns
        copied |= {y.var for y in out_leaves if isinstance(y, Tracer) and made_by.get(y.var) in _VIEWS}
    # A variable returned twice, or a read-only view (broadcast_to), is copied too: each returned
    # array must be the caller's own and take in-place updates.
    copies, seen = [], set()
    for y in out_leaves:
        is_var = isinstance(y, Tracer)
        copies.append(is_var and (y.var in copied or y.var in seen
                                  or (isinstance(y.value, np.ndarray) and not y.value.flags.writeable)))
        if is_var:
            seen.add(y.var)
    outs = [("var", y.var) if isinstance(y, Tracer) else ("const", y) for y in out_leaves]
    program = Program(name, _live(trace.eqns, out_leaves), in_vars, in_labels, outs, copies, out_treedef)
    values = [(_fresh(y.value) if copy else y.value) if isinstance(y, Tracer) else _fresh(y)
              for y, copy in zip(out_leaves, copies)]
    return program, trace.lowered, unflatten(out_treedef, values)


def _bounds(a: np.ndarray) -> tuple[int, int] | None:
    """[low, high) byte addresses that ``a`` can touch (what ``np.may_share_memory`` compares),
    or None for an empty array."""
    if a.size == 0:
        return None
    low = high = a.__array_interface__["data"][0]
    for n, stride in zip(a.shape, a.strides):
        extent = (n - 1) * stride
        if extent < 0:
            low += extent
        else:
            high += extent
    return low, high + a.itemsize


class _MemoryIndex:
    """The inputs' byte ranges, sorted by start with a running maximum of their ends: whether an
    output's range meets any input's is one binary search, O(log n), instead of a pass over
    every input (which made tracing quadratic in the number of parameter arrays). It answers as
    ``np.may_share_memory`` does: overlapping bounds count as shared."""

    def __init__(self, arrays):
        ranges = sorted(r for r in map(_bounds, arrays) if r is not None)
        self.starts = [low for low, _ in ranges]
        self.reach, furthest = [], -1
        for _, high in ranges:
            furthest = max(furthest, high)
            self.reach.append(furthest)

    def touches(self, a: np.ndarray) -> bool:
        r = _bounds(a)
        if r is None:
            return False
        low, high = r
        k = bisect.bisect_left(self.starts, high)  # inputs that start before a's end
        return k > 0 and self.reach[k - 1] > low  # ... and one of them ends after a's start


def _live(eqns, out_leaves):
    """The equations whose results are used (primitives are pure: the rest is dead code, such as
    the loss value when only its gradient is returned)."""
    needed = {y.var for y in out_leaves if isinstance(y, Tracer)}
    kept = []
    for eqn in reversed(eqns):
        if eqn.out in needed:
            kept.append(eqn)
            needed.update(vars_of(eqn.ins))
    return kept[::-1]


def _argument(path):
    """'[0]/0.weight' -> '0: 0.weight' (the positional argument, then the leaf within it)."""
    head, _, rest = path.partition("/")
    head = head.strip("[]")
    return f"{head}: {rest}" if rest else head


_VIEWS = ("reshape", "transpose", "getitem")  # the primitives whose result can be a view of an argument


def _fresh(c):
    return c.copy() if isinstance(c, np.ndarray) else c
