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

from .core import Trace, Tracer
from .shapes import unbroadcast


class Node(Tracer):
    """A traced value in reverse mode: its value plus how it was computed.

    ``parents`` is a list of ``(argnum, parent_node)`` for the arguments that belong to the
    same trace; ``prim``, ``args`` (unwrapped values) and ``params`` are what the VJP rules need.
    """

    __slots__ = ("prim", "args", "params", "parents")

    def __init__(self, value, trace, prim=None, args=(), params=None, parents=()):
        self.value = value
        self.trace = trace
        self.prim = prim
        self.args = args
        self.params = params
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
        parents = []
        for i, x in enumerate(args):
            if type(x) is Node and x.trace is self:
                values.append(x.value)
                parents.append((i, x))
            else:
                values.append(x)
        node = Node(prim(*values, **params), self, prim, values, params, parents)
        self.tape.append(node)
        return node

    def new_input(self, value):
        return Node(value, self)


def backward_pass(tape, seeds, free=False):
    """Propagate output cotangents back through a trace's ``tape``; return {id(node): cotangent}.

    ``seeds`` is a list of ``(node, g)``: the cotangent ``g`` of each output node. The sweep
    visits the tape from the newest node to the oldest, asks each node's primitive for the
    cotangents of its parents (its VJP rules) and *adds* them to what the parents have
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
    for node in nodes:
        ct = cts.pop(id(node), None)  # passed on below; only the inputs' cotangents are kept
        if ct is None:
            continue
        prim, args, parents = node.prim, node.args, node.parents
        if prim.vjp_all is not None:
            contributions = prim.vjp_all(tuple(i for i, _ in parents), ct, node.value, *args, **node.params)
        else:
            vjps = prim.vjps
            contributions = [(vjps.get(i) or prim.vjp_rule(i))(ct, node.value, *args, **node.params)
                             for i, _ in parents]
        for (i, parent), c in zip(parents, contributions):
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
