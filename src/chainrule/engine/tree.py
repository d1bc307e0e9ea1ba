"""Parameter trees: nested dicts, lists and tuples whose leaves are arrays.

``flatten`` turns a tree into a list of leaves plus a ``treedef`` that ``unflatten`` uses
to rebuild the same structure. Dict order is insertion order (so a network's layers keep
their order: ``0.weight`` before ``10.weight``). ``leaf_paths`` names each leaf the way a
user would write it, e.g. ``0.weight`` or ``encoder/1.bias``.
"""

from __future__ import annotations

import numpy as np

_LEAVES = {}  # n -> ("leaf",) * n, shared, so a flat dict's treedef is recognized by identity


def _all_leaves(n):
    t = _LEAVES.get(n)
    if t is None:
        t = _LEAVES[n] = ("leaf",) * n
    return t


def flatten(tree):
    if type(tree) is dict:  # the common parameter tree, {name: array}, without recursion
        leaves = list(tree.values())
        if all(type(v) is np.ndarray for v in leaves):
            return leaves, (dict, tuple(tree), _all_leaves(len(leaves)))
    leaves = []
    treedef = _flatten(tree, leaves)
    return leaves, treedef


def _flatten(tree, leaves):
    if type(tree) is np.ndarray:  # the common leaf, first
        leaves.append(tree)
        return "leaf"
    if isinstance(tree, dict):
        return (dict, tuple(tree), tuple(_flatten(v, leaves) for v in tree.values()))
    if isinstance(tree, list | tuple) and not hasattr(tree, "_fields"):
        return (type(tree), None, tuple(_flatten(v, leaves) for v in tree))
    if tree is None:
        return (None, None, ())
    leaves.append(tree)
    return "leaf"


def unflatten(treedef, leaves):
    if type(treedef) is tuple and treedef[0] is dict and treedef[2] is _LEAVES.get(len(treedef[2])):
        return dict(zip(treedef[1], leaves))
    it = iter(leaves)
    out = _unflatten(treedef, it)
    return out


def _unflatten(treedef, it):
    if treedef == "leaf":
        return next(it)
    kind, keys, children = treedef
    if kind is None:
        return None
    values = [_unflatten(c, it) for c in children]
    if kind is dict:
        return dict(zip(keys, values))
    return kind(values)


def leaf_paths(tree, prefix=""):
    """Readable names of the leaves of ``tree``, in ``flatten`` order."""
    if isinstance(tree, dict):
        return [p for k, v in tree.items() for p in leaf_paths(v, _join(prefix, str(k)))]
    if isinstance(tree, list | tuple):
        return [p for i, v in enumerate(tree) for p in leaf_paths(v, _join(prefix, f"[{i}]"))]
    if tree is None:
        return []
    return [prefix or "x"]


def _join(prefix, name):
    if not prefix:
        return name
    return prefix + name if name.startswith("[") else f"{prefix}/{name}"
