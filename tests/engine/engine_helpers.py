"""Shared helpers of the engine tests (imported by name: pytest puts this folder on sys.path)."""

import numpy as np

import chainrule as cr
from chainrule.engine.tree import flatten, unflatten


def random_like(tree, rng):
    """A tree of standard-normal float64 arrays with the shapes of ``tree``'s leaves."""
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [rng.standard_normal(np.shape(x)) for x in leaves])


def tree_vdot(a, b):
    """Σ over leaves of ⟨a_leaf, b_leaf⟩, and the Cauchy–Schwarz bound Σ ‖a_leaf‖ ‖b_leaf‖."""
    la, lb = flatten(a)[0], flatten(b)[0]
    dot = sum(float(np.vdot(np.asarray(x, np.float64), np.asarray(y, np.float64))) for x, y in zip(la, lb))
    bound = sum(float(np.linalg.norm(x) * np.linalg.norm(y)) for x, y in zip(la, lb))
    return dot, bound


def dot_product_gap(f, args, seed=0):
    """|⟨u, J v⟩ − ⟨Jᵀ u, v⟩| / (‖u‖‖Jv‖ + ‖Jᵀu‖‖v‖) for random u, v (forward vs. reverse mode).

    The denominator bounds the size of each inner product's terms, so round-off of the two
    sums is a few ε_mach (1e-16) times the number of terms relative to it, even when the
    inner products themselves cancel to near zero.
    """
    rng = np.random.default_rng(seed)
    v = tuple(random_like(a, rng) for a in args)
    out, Jv = cr.jvp(f, args, v)
    u = random_like(out, rng)
    _, vjp_fn = cr.vjp(f, *args)
    JTu = vjp_fn(u)
    lhs, lhs_bound = tree_vdot(u, Jv)
    rhs, rhs_bound = tree_vdot(JTu, v)
    return abs(lhs - rhs) / (lhs_bound + rhs_bound + 1e-300)
