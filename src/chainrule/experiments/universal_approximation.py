"""Experiment ``universal_approximation``: seed 001's constructive sketch, built and measured (seed 000, 004).

Step 1: σ(c(x − x₀)) tends to the step H(x − x₀) as the steepness c grows; away from x₀ (|x − x₀| ≥ δ)
the distance is exactly σ(−cδ). Step 2: σ(c(x − a)) − σ(c(x − b)) is a bump on [a, b] (two neurons).
Step 3: N bumps of heights f(midpoint) approximate f like a bar chart; for a Lipschitz f the
sup error is about max|f′|/(2N), so it falls like 1/N. All three are ``nn`` networks with weights
set by hand. Then the same question by training: one-hidden-layer tanh networks of growing width
fitted with L-BFGS, sup error on a fine grid.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..engine.transforms import value_and_grad
from .base import experiment
from .piecewise_linear import one_hidden_layer


def sigmoid_network(W1, b1, W2, b2):
    """1 → k → 1 network with sigmoid hidden units and a linear output. W1: (k, 1), W2: (1, k)."""
    return one_hidden_layer("sigmoid", W1, b1, W2, b2)


def steep_sigmoid(c, x0=0.5):
    """One neuron: σ(c(x − x₀))."""
    return sigmoid_network([[c]], [-c * x0], [[1.0]], [0.0])


def bump(c, a, b):
    """Two neurons: σ(c(x − a)) − σ(c(x − b)), ≈ 1 on (a, b) and ≈ 0 outside."""
    return sigmoid_network([[c], [c]], [-c * a, -c * b], [[1.0, -1.0]], [0.0])


def bumps(f, n, steepness=50.0, lo=0.0, hi=1.0):
    """2n neurons: Σ_i f(m_i)·bump_i over n equal cells of [lo, hi], m_i the cell midpoints.

    The outer cells reach past the interval so that its ends are not on a half-height edge;
    c = steepness · n / (hi − lo) keeps every edge a fixed fraction of a cell wide.
    """
    edges = np.linspace(lo, hi, n + 1)
    mids = 0.5 * (edges[:-1] + edges[1:])
    a, b = edges[:-1].copy(), edges[1:].copy()
    a[0], b[-1] = lo - (hi - lo), hi + (hi - lo)
    c = steepness * n / (hi - lo)
    heights = f(mids)
    W1 = np.full((2 * n, 1), c)
    b1 = -c * np.concatenate([a, b])
    W2 = np.concatenate([heights, -heights]).reshape(1, -1)
    return sigmoid_network(W1, b1, W2, [0.0])


def target(x):
    """The function to approximate: sin 2πx + ½ sin 6πx on [0, 1] (Lipschitz, max|f′| = 5π)."""
    return np.sin(2 * np.pi * x) + 0.5 * np.sin(6 * np.pi * x)


MAX_SLOPE = 5 * np.pi  # |f′| = |2π cos 2πx + 3π cos 6πx| ≤ 5π, reached at x = 0


def fit_width(width, seed, iterations, X, y):
    """A [1, width, 1] tanh network fitted by full-batch L-BFGS; returns the model. X: (n, 1)
    inputs, rescaled by the caller to [−1, 1] (centred inputs, as one standardizes data)."""
    model = nn.MLP([1, width, 1], activation="tanh")
    params = model.init(seed=seed)
    step = value_and_grad(lambda p: nn.losses.mse(model.apply(p, X), y))
    opt = optim.get("lbfgs", params, history_size=20)
    for _ in range(iterations):
        loss, g = step(params)
        opt.step(g, lambda: step(params), loss=loss)
        if opt.converged:
            break
    return model


def fit_error(width, seed, iterations, X, y, xg):
    """One task of the width sweep: fit_width, then its sup error against ``target`` on the grid
    ``xg`` (inputs rescaled as in the fit). Returns (the trained parameters, the error)."""
    model = fit_width(width, seed, iterations, 2 * X - 1, y)
    return dict(model.params), float(np.max(np.abs(model(2 * xg - 1)[:, 0] - target(xg[:, 0]))))


def tanh_network(width, params):
    model = nn.MLP([1, width, 1], activation="tanh")
    model.params = params
    return model


def _spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


@experiment("universal_approximation", "Universal approximation: steep sigmoids, bumps, and width",
            seeds=["001", "000", "004"])
def run(ctx):
    """Seed 001's three steps (sharpen, bump, sum bumps) with sup errors, then trained networks."""
    from ..plots import _plt, _save

    quick = ctx.quick
    x = np.linspace(0.0, 1.0, 20001).reshape(-1, 1)  # contains 0.45, 0.5, 0.55 exactly (step 5e-5)
    delta = 0.05

    # -- step 1: sharpen -----------------------------------------------------------------------
    cs = [1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]
    step_fn = (x[:, 0] >= 0.5).astype(float)
    away = np.abs(x[:, 0] - 0.5) >= delta - 1e-12
    sup = [float(np.max(np.abs(steep_sigmoid(c)(x)[:, 0] - step_fn)[away])) for c in cs]
    theory = [1.0 / (1.0 + np.exp(c * delta)) for c in cs]
    ctx.check_below(f"sup |σ(c(x−½)) − H(x−½)| over |x−½| ≥ {delta} equals σ(−c·{delta}) for c = "
                    f"{', '.join(f'{c:g}' for c in cs)} (max |measured − σ(−cδ)|; float64 resolves 1 − σ "
                    "to ~1e-16)", "001", 1e-15, max(abs(s - t) for s, t in zip(sup, theory)))
    ctx.check_equal("the distance to the step shrinks at every increase of c (number of increases)",
                    "001", 0, int(np.sum(np.diff(sup) >= 0)))
    ctx.check_below(f"c = 100 is already a step to within 1% away from the jump (sup over |x−½| ≥ {delta})",
                    "001", 0.01, sup[cs.index(100.0)])
    ctx.table("step 1: sup distance to the step outside |x − ½| < 0.05", ["c", "measured", "σ(−cδ)"],
              [[c, s, t] for c, s, t in zip(cs, sup, theory)])

    # -- step 2: a bump from two neurons -------------------------------------------------------
    a, b, c = 0.3, 0.6, 200.0
    indicator = ((x[:, 0] >= a) & (x[:, 0] <= b)).astype(float)
    far = (np.abs(x[:, 0] - a) >= delta - 1e-12) & (np.abs(x[:, 0] - b) >= delta - 1e-12)
    bump_out = bump(c, a, b)(x)[:, 0]
    bump_err = float(np.max(np.abs(bump_out - indicator)[far]))
    ctx.check_below(f"bump σ(c(x−{a})) − σ(c(x−{b})), c = {c:g}: sup distance to 1[{a},{b}] away from the "
                    f"edges (≥ {delta}) is at most 2σ(−c·{delta}) = {2 / (1 + np.exp(c * delta)):.2e}", "001",
                    2 / (1 + np.exp(c * delta)) * (1 + 1e-9), bump_err)

    # -- step 3: N bumps -----------------------------------------------------------------------
    Ns = [4, 8, 16, 32, 64] if quick else [4, 8, 16, 32, 64, 128, 256]
    f_x = target(x[:, 0])
    errs = [float(np.max(np.abs(bumps(target, n)(x)[:, 0] - f_x))) for n in ctx.stages(Ns, "bumps")]
    slope = float(np.polyfit(np.log(Ns[1:]), np.log(errs[1:]), 1)[0])
    ctx.check_close(f"sum of N bumps (2N neurons): sup error vs N falls like 1/N (log-log slope, N = "
                    f"{Ns[1]}…{Ns[-1]})", "001", -1.0, slope, atol=0.15)
    ctx.check_between(f"N = {Ns[-1]}: sup error · N / (max|f′|/2) — the bar-chart error of a Lipschitz "
                      "function is max|f′|/(2N)", "001", 0.8, 1.2, errs[-1] * Ns[-1] / (MAX_SLOPE / 2))
    ctx.table("step 3: N bumps approximating f(x) = sin 2πx + ½ sin 6πx", ["N", "neurons",
              "sup error", "max|f′|/(2N)"], [[n, 2 * n, e, MAX_SLOPE / (2 * n)] for n, e in zip(Ns, errs)])

    # -- trained: sup error vs width ----------------------------------------------------------
    widths = [1, 2, 4, 8, 16] if quick else [1, 2, 4, 8, 16, 32, 64]
    n_seeds, iterations = (2, 300) if quick else (3, 1000)
    X = np.linspace(0, 1, 128 if quick else 256).reshape(-1, 1)
    y = target(X)
    xg = x[::10]
    trained, rows = {}, []
    # the width sweep, one task per (width, seed), through the sweep runner (ctx.map)
    tasks = [(w, ctx.seed + s, iterations, X, y, xg) for w in widths for s in range(n_seeds)]
    fits = iter(ctx.map(fit_error, tasks, "width sweep"))
    for w in widths:
        found = [next(fits) for _ in range(n_seeds)]
        errors = [e for _, e in found]
        best = int(np.argmin(errors))
        trained[w] = (tanh_network(w, found[best][0]), errors[best])
        rows.append([w, errors[best], float(np.median(errors))])
    best_errs = [trained[w][1] for w in widths]
    limited = [w for w in widths if w <= 16]  # beyond ~16 units the optimizer, not the width, sets the error
    ctx.check_below(f"trained [1, w, 1] tanh networks: sup error at width 16 / at width 1 (best of {n_seeds} "
                    "seeds, L-BFGS)", "000", 0.2, trained[16][1] / trained[1][1])
    ctx.check_below(f"trained: the sup error falls with width, w = {', '.join(map(str, limited))} (Spearman "
                    "rank correlation of width and error)", "000", -0.7,
                    _spearman(limited, [trained[w][1] for w in limited]), expected="≈ −1")
    ctx.table("trained networks: sup error on [0, 1] vs width", ["width", "best sup error", "median"], rows)
    ctx.note("The constructive error is the bar chart's, max|f′|/(2N) with 2N neurons; trained networks of "
             "the same size do much better (tanh pieces bend). Past about 16 units the trained error stops "
             "falling (≈ 0.01 here, even with 3000 L-BFGS iterations): the optimizer, not the width, sets the "
             "floor — the theorem promises that a network exists, not that training finds it.")

    # -- figures -------------------------------------------------------------------------------
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for c in (1.0, 3.0, 10.0, 100.0):
        axes[0].plot(x[:, 0], steep_sigmoid(c)(x)[:, 0], label=f"c = {c:g}")
    axes[0].plot(x[:, 0], step_fn, "k--", lw=0.8, label="step")
    axes[0].set(title="step 1: σ(c(x − ½)) → step", xlabel="x")
    axes[0].legend(fontsize=8)
    for c in (10.0, 50.0, 200.0):
        axes[1].plot(x[:, 0], bump(c, a, b)(x)[:, 0], label=f"c = {c:g}")
    axes[1].plot(x[:, 0], indicator, "k--", lw=0.8)
    axes[1].set(title=f"step 2: two neurons make a bump on [{a}, {b}]", xlabel="x")
    axes[1].legend(fontsize=8)
    axes[2].plot(x[:, 0], f_x, "k", lw=1.5, label="f")
    for n in (4, 16):
        axes[2].plot(x[:, 0], bumps(target, n)(x)[:, 0], label=f"N = {n} bumps")
    axes[2].set(title="step 3: sum of bumps", xlabel="x")
    axes[2].legend(fontsize=8)
    _save(fig, ctx.figure("ua_construction"))

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].loglog([2 * n for n in Ns], errs, "o-", label="N bumps, measured")
    axes[0].loglog([2 * n for n in Ns], [MAX_SLOPE / (2 * n) for n in Ns], "k--", label="max|f′|/(2N)")
    axes[0].loglog(widths, best_errs, "s-", label="trained [1, w, 1] tanh")
    axes[0].set(xlabel="hidden neurons (2N, or w)", ylabel="sup error on [0, 1]", title="sup error vs size")
    axes[0].legend(fontsize=8)
    axes[1].plot(xg[:, 0], target(xg[:, 0]), "k", lw=1.5, label="f")
    for w in widths[::2]:
        axes[1].plot(xg[:, 0], trained[w][0](2 * xg - 1)[:, 0], label=f"width {w}")
    axes[1].set(title="trained one-hidden-layer networks", xlabel="x")
    axes[1].legend(fontsize=8)
    _save(fig, ctx.figure("ua_error_vs_size"))
