"""Loss slices: the loss along one or two directions through the current weights.

L(θ + α d) for α in [−r, r] (1-D) and L(θ + α d₁ + β d₂) (2-D). The directions are random
Gaussian and *filter-normalized* (Li et al., 2018, "Visualizing the Loss Landscape of Neural
Nets"): each row of a weight matrix's direction (one unit's incoming weights) is scaled to the
norm of that row of W, so α = 1 moves every unit by its own size and slices of networks with
different weight scales are comparable. One-dimensional parameters (biases, BatchNorm's γ, β)
get a zero direction, as in that paper.
"""

from __future__ import annotations

import numpy as np

from ..engine.tree import flatten, unflatten


def filter_normalized_direction(params, seed=0):
    """A random direction with the structure of ``params``, filter-normalized (see module doc)."""
    rng = np.random.default_rng(seed)
    leaves, treedef = flatten(params)
    out = []
    for W in leaves:
        W = np.asarray(W)
        if W.ndim < 2:
            out.append(np.zeros_like(W))
            continue
        d = rng.standard_normal(W.shape)
        rows_d = np.linalg.norm(d.reshape(len(d), -1), axis=1).reshape((-1,) + (1,) * (W.ndim - 1))
        rows_w = np.linalg.norm(W.reshape(len(W), -1), axis=1).reshape(rows_d.shape)
        out.append((d / np.maximum(rows_d, 1e-300) * rows_w).astype(W.dtype))
    return unflatten(treedef, out)


def _moved(params, steps):
    """θ + Σ cᵢ dᵢ for steps = [(c, d), ...]."""
    leaves, treedef = flatten(params)
    dirs = [flatten(d)[0] for _, d in steps]
    return unflatten(treedef, [p + sum(c * ds[k] for (c, _), ds in zip(steps, dirs)) for k, p in enumerate(leaves)])


def loss_slice_1d(loss, params, direction=None, radius=1.0, points=41, seed=0):
    """{'alphas': (points,), 'losses': (points,)}: L(θ + α d) for α in linspace(−radius, radius)."""
    d = filter_normalized_direction(params, seed) if direction is None else direction
    alphas = np.linspace(-radius, radius, int(points))
    losses = np.array([float(loss(_moved(params, [(a, d)]))) for a in alphas])
    return {"alphas": alphas, "losses": losses}


def loss_surface_2d(loss, params, radius=1.0, points=21, seed=0):
    """{'alphas', 'betas', 'losses' (points, points)}: L(θ + α d₁ + β d₂), rows indexed by β."""
    d1 = filter_normalized_direction(params, seed)
    d2 = filter_normalized_direction(params, seed + 1)
    grid = np.linspace(-radius, radius, int(points))
    losses = np.array([[float(loss(_moved(params, [(a, d1), (b, d2)]))) for a in grid] for b in grid])
    return {"alphas": grid, "betas": grid.copy(), "losses": losses}
