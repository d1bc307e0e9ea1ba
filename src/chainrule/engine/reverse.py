"""Reverse mode: record the computation as a graph of nodes, then sweep it backwards.

This is backpropagation. Each primitive applied to a :class:`Node` creates a new node that
remembers the primitive, its inputs and its parents. The backward sweep visits nodes in
reverse topological order (computed iteratively, so a chain of 100,000 operations is fine),
asks each primitive's VJP rule for its parents' cotangents, and *adds* them up: a value used
several times (weight sharing) receives the sum of its uses' contributions.
"""

from __future__ import annotations

from .core import Trace, Tracer
from .shapes import unbroadcast


class Node(Tracer):
    """A traced value in reverse mode: its value plus how it was computed.

    ``parents`` is a tuple of ``(argnum, parent_node)`` for the arguments that belong to the
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
    __slots__ = ()

    def process(self, prim, args, params):
        values = []
        parents = []
        for i, x in enumerate(args):
            if isinstance(x, Node) and x.trace is self:
                values.append(x.value)
                parents.append((i, x))
            else:
                values.append(x)
        ans = prim(*values, **params)
        return Node(ans, self, prim, tuple(values), params, tuple(parents))

    def new_input(self, value):
        return Node(value, self)


def toposort(ends):
    """Nodes reachable from ``ends``, parents before children (iterative depth-first search)."""
    order = []
    seen = set()
    for end in ends:
        if id(end) in seen:
            continue
        seen.add(id(end))
        stack = [(end, iter(end.parents))]
        while stack:
            node, parents = stack[-1]
            for _, parent in parents:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append((parent, iter(parent.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def backward_pass(seeds, free=False):
    """Propagate output cotangents to every node; return {id(node): cotangent}.

    ``seeds`` is a list of ``(node, g)``: the cotangent ``g`` of each output node.

    With ``free=True`` the sweep releases each node's saved inputs as soon as it has been
    processed, and each cotangent as soon as it has been passed on, so peak memory falls
    as the sweep passes (used by ``grad``; ``vjp`` keeps them so ``vjp_fn`` can be reused).
    """
    cts = {}
    for node, g in seeds:
        prev = cts.get(id(node))
        cts[id(node)] = g if prev is None else prev + g
    order = toposort([node for node, _ in seeds])
    while order:
        node = order.pop()  # dropping it lets its value go once its consumers are done (free=True)
        ct = cts.get(id(node)) if not node.parents else cts.pop(id(node), None)
        if ct is None or not node.parents:
            continue
        prim = node.prim
        if prim.vjp_all is not None:
            argnums = tuple(i for i, _ in node.parents)
            contributions = prim.vjp_all(argnums, ct, node.value, *node.args, **node.params)
        else:
            contributions = [
                prim.vjp_rule(i)(ct, node.value, *node.args, **node.params) for i, _ in node.parents
            ]
        for (i, parent), c in zip(node.parents, contributions):
            if c is None:
                continue
            c = unbroadcast(c, node.args[i])
            key = id(parent)
            prev = cts.get(key)
            cts[key] = c if prev is None else prev + c
        if free:
            node.args = node.params = node.parents = None
    return cts
