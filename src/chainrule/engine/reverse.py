"""Reverse mode: record the computation as a graph of nodes, then sweep it backwards.

This is backpropagation. Each primitive applied to a :class:`Node` creates a new node that
remembers the primitive, its inputs and its parents, and is appended to its trace's tape. The
backward sweep walks the tape from the newest node back — creation order is a topological
order, so no graph search and no recursion (a chain of 100,000 operations is fine) —
asks each primitive's VJP rule for its parents' cotangents, and *adds* them up: a value used
several times (weight sharing) receives the sum of its uses' contributions.
"""

from __future__ import annotations

import numpy as np

from . import fitting
from .core import Trace, Tracer


class Node(Tracer):
    """A traced value in reverse mode: its value plus how it was computed.

    ``parents`` are the argument nodes that belong to the same trace and ``argnums`` their
    positions; ``prim``, ``args`` (unwrapped values) and ``params`` are what the VJP rule needs.
    """

    __slots__ = ("prim", "args", "params", "argnums", "parents")

    def __init__(self, value, trace, prim=None, args=(), params=None, argnums=(), parents=()):
        self.value = value
        self.trace = trace
        self.prim = prim
        self.args = args
        self.params = params
        self.argnums = argnums
        self.parents = parents


class ReverseTrace(Trace):
    """Records every node it creates on its own ``tape``, in creation order.

    Creation order is a topological order (a node is created after its parents), so the
    backward sweep needs no graph search: it walks the tape backwards. The tape belongs to
    this trace alone, so nested transforms never consume each other's records.
    """

    __slots__ = ("tape",)

    def __init__(self):
        super().__init__()
        self.tape = []

    def process(self, prim, args, params):
        values = []
        argnums = []
        parents = []
        for i, x in enumerate(args):
            if type(x) is Node and x.trace is self:
                values.append(x.value)
                argnums.append(i)
                parents.append(x)
            else:
                values.append(x)
        node = Node(prim(*values, **params), self, prim, values, params, tuple(argnums), parents)
        self.tape.append(node)
        return node

    def new_input(self, value):
        return Node(value, self)


def backward_pass(tape, seeds, free=False):
    """Propagate output cotangents back through a trace's ``tape``; return {id(node): cotangent}.

    ``seeds`` is a list of ``(node, g)``: the cotangent ``g`` of each output node. The sweep
    visits the tape from the newest node to the oldest, asks each node's primitive for the
    cotangents of its parents (its VJP rule, one call per node) and *adds* them to what the parents have
    already received: a value used several times gets the sum of its uses.

    With ``free=True`` (used by ``grad``) the sweep empties the tape as it goes and drops each
    node's saved inputs and cotangent once processed, so memory falls as the sweep passes;
    ``vjp`` keeps them so that ``vjp_fn`` can be called again.
    """
    cts = {}
    for node, g in seeds:
        prev = cts.get(id(node))
        cts[id(node)] = g if prev is None else prev + g
    nodes = _popping(tape) if free else reversed(tape)
    ndarray = np.ndarray
    unbroadcast = fitting.unbroadcast
    for node in nodes:
        ct = cts.pop(id(node), None)  # passed on below; only the inputs' cotangents are kept
        if ct is None:
            continue
        args, argnums = node.args, node.argnums
        contributions = node.prim.vjp(argnums, ct, node.value, args, node.params)  # the one call site
        for i, parent, c in zip(argnums, node.parents, contributions):
            if c is None:
                continue
            x = args[i]
            # The common case (same shape and dtype) skips unbroadcast's general path.
            if not (type(c) is ndarray and type(x) is ndarray and c.shape == x.shape and c.dtype == x.dtype):
                c = unbroadcast(c, x)
            key = id(parent)
            prev = cts.get(key)
            cts[key] = c if prev is None else prev + c
        if free:
            node.args = node.params = node.parents = None
    return cts


def _popping(tape):
    while tape:
        yield tape.pop()
