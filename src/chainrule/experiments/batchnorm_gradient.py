"""Experiment ``batchnorm_gradient``: seed 004's closed form of ∂L/∂x_i through batch normalization.

Seed 004, answer 4: with x̂_i = (x_i − μ_B)/√(σ_B² + ε), μ_B and the biased σ_B² over the m
samples of the batch,

    ∂L/∂x_i = 1/(m√(σ_B² + ε)) · ( m ∂L/∂x̂_i − Σ_j ∂L/∂x̂_j − x̂_i Σ_j ∂L/∂x̂_j x̂_j ),

"a projection removing the mean and variance components". The engine never uses this formula:
it differentiates the forward pass (mean, var, subtract, divide) step by step. Agreement to
rounding error in float64 checks both. The projection is exact only at ε = 0: then Σ_i ∂L/∂x_i
= 0 and Σ_i ∂L/∂x_i x̂_i = 0. With ε > 0 the second sum is (Σ_j g_j x̂_j / s)·ε/(σ² + ε), s = √(σ² + ε),
g = ∂L/∂x̂ — not zero, and predicted exactly.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from .. import numpy as cnp
from ..engine.transforms import grad
from .base import experiment


def closed_form(x, g, eps):
    """Seed 004's ∂L/∂x for x: (m, d) and upstream g = ∂L/∂x̂: (m, d), per feature (column)."""
    m = x.shape[0]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    s = np.sqrt(var + eps)
    x_hat = (x - mu) / s
    return (m * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0)) / (m * s)


def engine_gradient(x, g, eps):
    """∂/∂x of L = Σ g ⊙ BN(x) (γ = 1, β = 0, training mode), by the engine through nn.BatchNorm."""
    layer = nn.BatchNorm(x.shape[1], eps=eps)
    model = nn.Sequential(layer)
    model.init(seed=0)

    def loss(x):  # (the new running statistics are not under test: apply returns them only if asked)
        return cnp.sum(model.apply(model.params, x, training=True) * g)

    return grad(loss)(x)


def _finite_differences(x, g, eps, h=1e-6):
    def loss(x):
        mu = x.mean(axis=0)
        return float(np.sum(g * (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)))

    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        out[idx] = (loss(x + e) - loss(x - e)) / (2 * h)
    return out


def _rel(a, b, scale):
    """max|a − b| relative to ``scale``, the size of the terms that cancel (not of b, which may be ~0)."""
    return float(np.max(np.abs(a - b)) / scale)


@experiment("batchnorm_gradient", "Batch normalization: the closed-form ∂L/∂x_i against the engine",
            seeds=["004"])
def run(ctx):
    """Closed form vs engine (float64) over batch sizes, widths and ε; the projection at ε = 0."""
    rng = np.random.default_rng(ctx.seed)
    ms = (2, 8, 64) if ctx.quick else (2, 3, 8, 32, 64, 256, 1024)
    ds = (1, 5) if ctx.quick else (1, 5, 32)
    epss = (0.0, 1e-5, 1e-1)
    rows, worst, worst_fd = [], 0.0, 0.0
    proj = {"sum": 0.0, "x_hat": 0.0, "eps_pred": 0.0}
    example = None
    for m in ctx.stages(ms, "batch size"):
        for d in ds:
            for eps in epss:
                # Features of different scales and offsets, as real pre-activations have.
                x = rng.standard_normal((m, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-2, 2, d)
                g = rng.standard_normal((m, d))
                cf, en = closed_form(x, g, eps), engine_gradient(x, g, eps)
                mu = x.mean(axis=0)
                var = ((x - mu) ** 2).mean(axis=0)
                s = np.sqrt(var + eps)
                x_hat = (x - mu) / s
                # The terms of the formula have size |g|/s; the result can cancel to ~0 (m = 2, ε = 0:
                # x̂ = ±1 whatever x is, so ∂L/∂x = 0 exactly), so errors are measured against |g|/s.
                scale = float(np.max(np.abs(g) / s))
                err = _rel(en, cf, scale)
                worst = max(worst, err)
                if m <= 8 and d <= 5:
                    worst_fd = max(worst_fd, _rel(_finite_differences(x, g, eps), cf, scale))
                terms = (np.abs(g) / s).sum(axis=0), (np.abs(g * x_hat) / s).sum(axis=0)
                if eps == 0.0:
                    proj["sum"] = max(proj["sum"], float(np.max(np.abs(en.sum(axis=0)) / terms[0])))
                    proj["x_hat"] = max(proj["x_hat"], float(np.max(np.abs((en * x_hat).sum(axis=0)) / terms[1])))
                else:
                    predicted = (g * x_hat).sum(axis=0) / s * eps / (var + eps)
                    measured = (en * x_hat).sum(axis=0)
                    proj["eps_pred"] = max(proj["eps_pred"], float(np.max(np.abs(measured - predicted) / terms[1])))
                rows.append([m, d, eps, err])
                if m == 64 and d == 1 and eps == 1e-5:
                    example = (cf[:, 0], en[:, 0])
    ctx.table("max |engine − closed form| / max |∂L/∂x̂|/s per configuration", ["m", "d", "ε", "relative error"],
              rows)
    ctx.check_below(f"closed form = engine gradient in float64, all {len(rows)} configurations (max error / (|g|/s))",
                    "004", 1e-12, worst)
    ctx.check_below("closed form = central differences (h = 1e−6, m ≤ 8; error / (|g|/s))", "004", 1e-7, worst_fd)
    ctx.note("m = 2, ε = 0 is degenerate: x̂ = ±1 for any two distinct values, so ∂L/∂x = 0; the closed form "
             "and the engine both give 0 up to rounding.")
    ctx.check_below("ε = 0: Σ_i ∂L/∂x_i = 0 (the mean component is removed), relative to Σ_i |g_i|/s", "004",
                    1e-12, proj["sum"])
    ctx.check_below("ε = 0: Σ_i ∂L/∂x_i x̂_i = 0 (the variance component is removed), relative to Σ_i |g_i x̂_i|/s",
                    "004", 1e-12, proj["x_hat"])
    ctx.check_below("ε > 0: Σ_i ∂L/∂x_i x̂_i = (Σ_j g_j x̂_j / s)·ε/(σ² + ε), not 0 (error relative to "
                    "Σ_i |g_i x̂_i|/s)", "004", 1e-12, proj["eps_pred"])
    _plot(ctx, *example)


def _plot(ctx, cf, en):
    from ..plots import _plt, _save
    from .sources import cite

    plt = _plt()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
    ax0.plot(cf, en, "o", ms=4)
    lim = [min(cf.min(), en.min()), max(cf.max(), en.max())]
    ax0.plot(lim, lim, "k--", lw=1)
    ax0.set_xlabel(cite("closed form (seed 004)"))
    ax0.set_ylabel("engine")
    ax0.set_title("∂L/∂x_i, m = 64, ε = 1e−5")
    diff = np.abs(en - cf)
    ax1.semilogy(np.arange(len(cf)), np.maximum(diff, 1e-20), "o", ms=3)
    ax1.set_xlabel("sample i")
    ax1.set_ylabel("|engine − closed form| (0 shown as 1e−20)")
    ax1.set_title("difference: rounding error only")
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3)
    _save(fig, ctx.figure("batchnorm_gradient"))
