"""Sharpness: the top eigenvalue of the loss's Hessian, by power iteration on Hessian-vector products.

The Hessian of a network's loss has as many rows as the network has parameters, far too many
to build, but ``chainrule.hvp`` gives H·v for the price of about two gradients
(forward-over-reverse). Power iteration v ← Hv / ‖Hv‖ converges to the eigenvector of the
eigenvalue of largest magnitude; the Rayleigh quotient vᵀHv is the eigenvalue. Near a minimum
that is λ_max ≥ 0, the "sharpness"; gradient descent with learning rate η is stable along it
only if η·λ_max < 2.
"""

from __future__ import annotations

import numpy as np

from ..engine.transforms import hvp
from ..engine.tree import flatten, unflatten


def _dot(a, b):
    return float(sum(np.vdot(np.asarray(x, np.float64), np.asarray(y, np.float64))
                     for x, y in zip(flatten(a)[0], flatten(b)[0])))


def _scale(tree, c):
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [x * c for x in leaves])


def random_direction(params, seed=0):
    """A unit-norm Gaussian direction with the structure of ``params``."""
    rng = np.random.default_rng(seed)
    leaves, treedef = flatten(params)
    v = unflatten(treedef, [rng.standard_normal(np.shape(x)).astype(np.asarray(x).dtype) for x in leaves])
    return _scale(v, 1.0 / np.sqrt(_dot(v, v)))


def top_hessian_eigenvalue(loss, params, iters=50, tol=1e-6, seed=0, v0=None):
    """(λ, v, iterations): the Hessian eigenvalue of largest magnitude of ``loss`` at ``params``.

    loss: ``params -> scalar``; params: an array or a tree (dict) of arrays. Stops when the
    Rayleigh quotient changes by less than ``tol``·|λ| between iterations, or after ``iters``.
    The rate is |λ₂/λ₁| per iteration, so a nearly degenerate top pair converges slowly.
    """
    v = random_direction(params, seed) if v0 is None else _scale(v0, 1.0 / np.sqrt(_dot(v0, v0)))
    lam = None
    for k in range(1, iters + 1):
        Hv = hvp(loss, params, v)
        new = _dot(v, Hv)
        size = np.sqrt(_dot(Hv, Hv))
        if size == 0 or not np.isfinite(size):
            return new, v, k
        v = _scale(Hv, 1.0 / size)
        if lam is not None and abs(new - lam) <= tol * abs(new):
            return new, v, k
        lam = new
    return lam, v, iters
