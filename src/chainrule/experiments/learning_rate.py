"""Experiment ``learning_rate``: too small, right, too large; batch GD vs SGD vs mini-batch (seeds 001, 003).

Convex problem: least squares L(w) = ½·mean((Xw − y)²) with Hessian H = XᵀX/N. Gradient descent
w ← w − η∇L multiplies the error along the eigenvector of eigenvalue λ by (1 − ηλ), so it
converges exactly when η < 2/λ_max and diverges above it — a threshold we can compute and then
find again by bisection on η, running the engine's gradients.

Non-convex problem: a [1, 32, 1] tanh network fitted to sin; the sharpness λ_max of the loss
at initialization (power iteration on Hessian-vector products) sets the scale of η.

Batch size: at one learning rate, M = 1 (SGD), M = 16 (mini-batch) and M = N (batch GD) on the
least-squares problem; the noise of the loss curve and of the gradient itself falls with M.
"""

from __future__ import annotations

import numpy as np

from .. import data, nn
from .. import numpy as cnp
from ..engine.transforms import grad, hessian, hvp, value_and_grad
from .base import experiment


def least_squares(n=256, d=8, noise=0.5, seed=0):
    """X (n, d) with column scales from 0.5 to 2 (condition number ≈ 19), y = X w* + noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(0.5, 2.0, d)
    y = X @ rng.standard_normal((d, 1)) + noise * rng.standard_normal((n, 1))
    return X, y


def ls_loss(w, X, y):
    """½·mean((Xw − y)²): w (d, 1), X (n, d), y (n, 1) -> scalar."""
    return 0.5 * cnp.mean((X @ w - y) ** 2)


def gd_suboptimality(X, y, learning_rate, steps, start=None):
    """Run GD from w = 0 (or ``start``) with the engine's gradient; return L(w_t) − L(w*) for
    t = 0..steps, computed as ½(w − w*)ᵀH(w − w*) (no cancellation near the optimum)."""
    H = X.T @ X / len(X)
    w_star = np.linalg.solve(X.T @ X, X.T @ y)
    g = grad(ls_loss)
    w = np.zeros_like(w_star) if start is None else np.array(start, float)
    out = []
    for t in range(steps + 1):
        e = w - w_star
        out.append(0.5 * float(np.sum(e * (H @ e))))
        if t < steps:
            w = w - learning_rate * g(w, X, y)
            if not np.all(np.isfinite(w)) or out[-1] > 1e150:
                out += [np.inf] * (steps - t)
                break
    return np.array(out)


def divergence_threshold(X, y, low, high, steps, iterations):
    """Bisection on η for the boundary between 'suboptimality after ``steps`` steps is below the
    initial one' (converging) and 'above it' (diverging). GD starts at w* + Σ_i v_i (v_i the unit
    eigenvectors of H), so that every direction, the steepest included, starts with a fair share."""
    H = X.T @ X / len(X)
    start = np.linalg.solve(X.T @ X, X.T @ y) + np.linalg.eigh(H)[1].sum(axis=1, keepdims=True)
    for _ in range(iterations):
        mid = 0.5 * (low + high)
        s = gd_suboptimality(X, y, mid, steps, start)
        if s[-1] < s[0]:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def sharpness(loss, params, iterations=30, seed=0):
    """λ_max of the Hessian of ``loss`` at ``params`` by power iteration on Hessian-vector products."""
    rng = np.random.default_rng(seed)
    v = {k: rng.standard_normal(a.shape) for k, a in params.items()}
    lam = 0.0
    for _ in range(iterations):
        norm = np.sqrt(sum(float(np.sum(a * a)) for a in v.values()))
        v = {k: a / norm for k, a in v.items()}
        Hv = hvp(loss, params, v)
        lam = sum(float(np.sum(Hv[k] * v[k])) for k in v)
        v = Hv
    return lam


def minibatch_run(X, y, batch_size, learning_rate, steps, seed=0):
    """Steps of mini-batch SGD (seed 003: shuffle, split into blocks of M, repeat); the full-data
    loss after each step."""
    batcher = data.Batcher(len(X), batch_size, shuffle=True, seed=seed)
    g = grad(ls_loss)
    w = np.zeros((X.shape[1], 1))
    losses = [float(ls_loss(w, X, y))]
    epoch = 0
    while len(losses) <= steps:
        for idx in batcher.batches(epoch):
            w = w - learning_rate * g(w, X[idx], y[idx])
            losses.append(float(ls_loss(w, X, y)))
            if len(losses) > steps:
                break
        epoch += 1
    return np.array(losses)


def gradient_noise(X, y, w, batch_size, draws, seed=0):
    """E‖g_B − g‖² over random batches of M rows drawn without replacement, and its theory
    (σ²/M)·(N − M)/(N − 1), σ² = mean_i ‖g_i − g‖² (per-sample gradient variance)."""
    rng = np.random.default_rng(seed)
    n = len(X)
    g = grad(ls_loss)
    full = g(w, X, y)
    per_sample = X * (X @ w - y)  # ∇ of ½(x_iᵀw − y_i)²: row i is g_iᵀ
    sigma2 = float(np.mean(np.sum((per_sample - full.T) ** 2, axis=1)))
    measured = np.mean([float(np.sum((g(w, X[i], y[i]) - full) ** 2))
                        for i in (rng.choice(n, batch_size, replace=False) for _ in range(draws))])
    return float(measured), sigma2 / batch_size * (n - batch_size) / (n - 1)


@experiment("learning_rate", "Learning rate: too small, right, too large; batch vs mini-batch vs SGD",
            seeds=["001", "003"])
def run(ctx):
    """GD on least squares around its computable threshold 2/λ_max; GD on a small tanh network
    scaled by its sharpness at init; batch GD vs SGD vs mini-batch loss noise."""
    from ..plots import _plt, _save

    quick = ctx.quick
    X, y = least_squares(seed=ctx.seed)
    d = X.shape[1]

    # -- convex: the threshold 2/λ_max --------------------------------------------------------
    H_engine = hessian(ls_loss)(np.zeros((d, 1)), X, y).reshape(d, d)
    H = X.T @ X / len(X)
    ctx.check_below("the engine's Hessian of ½·mean((Xw−y)²) equals XᵀX/N (max abs difference)", "001",
                    1e-12, float(np.max(np.abs(H_engine - H))))
    lam = np.linalg.eigvalsh(H_engine)
    lam_min, lam_max = float(lam[0]), float(lam[-1])
    eta_star = 2 / lam_max
    steps = 200 if quick else 1000
    runs = {name: gd_suboptimality(X, y, f * eta_star, steps) for name, f in
            (("too small (0.001·2/λ)", 0.001), ("right 2/(λmax+λmin)", lam_max / (lam_max + lam_min)),
             ("just below (0.95·2/λ)", 0.95), ("just above (1.05·2/λ)", 1.05))}
    small, right, below, above = (runs[k] for k in runs)
    ctx.check_above(f"η too small (0.001·2/λ_max): after {steps} steps still > 10% of the initial "
                    "suboptimality (slow)", "001", 0.1, float(small[-1] / small[0]))
    ctx.check_below(f"η right (2/(λ_max+λ_min)): after {steps} steps below 1e-12 of the initial "
                    "suboptimality", "001", 1e-12, float(right[-1] / right[0]))
    rate = float(np.median(right[21:41] / right[20:40]))
    ctx.check_close("η right: measured loss contraction per step vs theory ((κ−1)/(κ+1))², "
                    "κ = λ_max/λ_min", "001", ((lam_max - lam_min) / (lam_max + lam_min)) ** 2, rate,
                    rtol=0.01)
    ctx.check_below(f"η = 0.95·2/λ_max converges: suboptimality after {steps} steps / initial", "001",
                    1e-3, float(below[-1] / below[0]))
    ctx.check_above(f"η = 1.05·2/λ_max diverges: suboptimality after {steps} steps / initial", "001",
                    1e6, float(above[-1] / above[0]))
    growth = float(np.median(above[steps - 20:steps] / above[steps - 21:steps - 1]))
    ctx.check_close("η = 1.05·2/λ_max: measured growth per step vs theory (1.05·2 − 1)² = 1.21", "001",
                    1.21, growth, rtol=1e-3)
    found = divergence_threshold(X, y, 0.5 * eta_star, 1.5 * eta_star, 150 if quick else 400,
                                 10 if quick else 14)
    ctx.check_close("bisection on η finds the divergence threshold at 2/λ_max (ratio found / theory)",
                    "001", 1.0, found / eta_star, atol=0.01)
    sweep = np.linspace(0.1, 1.4, 14 if quick else 27)
    finals = [(lambda s: s[-1] / s[0])(gd_suboptimality(X, y, f * eta_star, 100)) for f in sweep]

    # -- non-convex: a small tanh network ------------------------------------------------------
    Xs, ys = data.make_regression_1d("sin", n=128, seed=ctx.seed)
    Xs = Xs / np.pi
    model = nn.MLP([1, 32, 1], activation="tanh")
    p0 = model.init(seed=ctx.seed)

    def loss(p):
        return nn.losses.mse(model.apply(p, Xs), ys)

    lam0 = sharpness(loss, p0, iterations=20 if quick else 50)
    eta0 = 2 / lam0
    step = value_and_grad(loss)
    nc_steps = 1000 if quick else 3000
    curves = {}
    for factor in ctx.stages((0.01, 0.5, 10.0), "learning rate"):
        p = {k: v.copy() for k, v in p0.items()}
        curve = []
        for _ in range(nc_steps + 1):
            value, g = step(p)
            curve.append(float(value))
            if not np.isfinite(curve[-1]) or curve[-1] > 1e6 * curve[0]:
                break
            for k in p:
                p[k] -= factor * eta0 * g[k]
        curves[factor] = (np.array(curve), p)
    L0 = curves[0.5][0][0]
    best = {f: float(np.min(c[0][np.isfinite(c[0])])) for f, c in curves.items()}
    ctx.check_above(f"network, η = 0.01·2/λ₀ too small (λ₀ = sharpness at init): lowest loss in {nc_steps} "
                    "steps / lowest loss with η = 0.5·2/λ₀", "001", 10.0, best[0.01] / best[0.5])
    ctx.check_below(f"network, η = 0.5·2/λ₀ right: lowest loss in {nc_steps} steps / initial loss", "001",
                    0.05, best[0.5] / L0)
    big = curves[10.0][0]
    ctx.check_above("network, η = 10·2/λ₀ too large: largest loss reached / initial (diverges)", "001",
                    1e3, float(np.max(np.where(np.isfinite(big), big, np.inf)) / L0))
    lam_end = sharpness(loss, curves[0.5][1], iterations=20 if quick else 50)
    ctx.check_between("network, η = 0.5·2/λ₀: the sharpness grows during training until λ_max ≈ 2/η and "
                      "stays there (the convex threshold holds locally: 'edge of stability'); final λ_max·η/2",
                      "001", 0.8, 1.4, lam_end * 0.5 * eta0 / 2, expected="≈ 1")
    ctx.note("Non-convex: the sharpness λ_max rises as the network trains until it reaches 2/η, then GD "
             "hovers there — with occasional loss spikes that flatten the weights again (the 'edge of "
             "stability', Cohen et al. 2021). So 2/λ, exact for the quadratic, still governs the network, "
             "but at the weights GD visits, not at initialization.")
    ctx.table("non-convex: [1,32,1] tanh network on sin, full-batch GD", ["η / (2/λ₀)", "initial loss",
              "final loss", "steps run"],
              [[f, float(c[0][0]), float(c[0][-1]), len(c[0]) - 1] for f, c in curves.items()])

    # -- batch GD vs mini-batch vs SGD ---------------------------------------------------------
    lr = 0.05  # below 2/max‖x_i‖² so that even M = 1 is stable
    sgd_steps = 600 if quick else 3000
    sizes = {"SGD (M = 1)": 1, "mini-batch (M = 16)": 16, f"batch GD (M = N = {len(X)})": len(X)}
    curves_m = {name: minibatch_run(X, y, m, lr, sgd_steps, seed=ctx.seed) for name, m in sizes.items()}
    noise = {name: float(np.std(np.diff(c[sgd_steps // 2:]))) for name, c in curves_m.items()}
    n1, n16, nN = noise.values()
    ctx.check_above("loss-curve noise (std of per-step changes of the full loss, second half): SGD / "
                    "mini-batch", "003", 2.0, n1 / n16)
    ctx.check_above("loss-curve noise: mini-batch / batch GD", "003", 10.0, n16 / max(nN, 1e-300))
    w_mid = np.linalg.solve(X.T @ X, X.T @ y) * 0.5
    draws = 500 if quick else 4000
    rows = []
    for m in ctx.stages((1, 4, 16, 64), "batch size"):
        measured, theory = gradient_noise(X, y, w_mid, m, draws, seed=ctx.seed)
        rows.append([m, measured, theory, measured / theory])
    worst = max(abs(r[3] - 1) for r in rows)
    ctx.check_below(f"gradient noise E‖g_B − g‖² = (σ²/M)(N−M)/(N−1): worst |measured/theory − 1| over "
                    f"M = 1, 4, 16, 64 ({draws} random batches each)", "003", 0.2 if quick else 0.1, worst)
    ctx.table("gradient noise vs batch size", ["M", "measured E‖g_B − g‖²", "theory", "ratio"], rows)

    # -- figures -------------------------------------------------------------------------------
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, s in runs.items():
        axes[0].plot(np.arange(len(s)), np.maximum(s, 1e-300), label=f"η = {name}")
    axes[0].set(yscale="log", ylim=(1e-30, 1e12), xlabel="step", ylabel="L(w) − L(w*)",
                title=f"least squares, 2/λ_max = {eta_star:.3f}")
    axes[0].legend(fontsize=8)
    axes[1].plot(sweep, np.maximum(finals, 1e-300), "o-")
    axes[1].axvline(1.0, color="C3", ls="--", label="η = 2/λ_max")
    axes[1].axvline(found / eta_star, color="k", lw=0.8, label="bisection")
    axes[1].set(yscale="log", xlabel="η · λ_max / 2", ylabel="suboptimality after 100 steps / initial",
                title="convergence ⇔ η < 2/λ_max")
    axes[1].legend(fontsize=8)
    _save(fig, ctx.figure("lr_convex"))

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for f, (c, _) in curves.items():
        ax.plot(np.arange(len(c)), c, label=f"η = {f:g} · 2/λ₀")
    ax.set(yscale="log", xlabel="step", ylabel="mse", title=f"[1,32,1] tanh network, λ₀ = {lam0:.2f}")
    ax.legend(fontsize=8)
    _save(fig, ctx.figure("lr_network"))

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, c in curves_m.items():
        axes[0].plot(np.arange(len(c)), c, label=f"{name}: noise {noise[name]:.1e}", lw=0.8)
    axes[0].set(yscale="log", xlabel="step", ylabel="full-data loss", title=f"same η = {lr}")
    axes[0].legend(fontsize=8)
    axes[1].loglog([r[0] for r in rows], [r[1] for r in rows], "o", label="measured")
    axes[1].loglog([r[0] for r in rows], [r[2] for r in rows], "-", label="(σ²/M)(N−M)/(N−1)")
    axes[1].set(xlabel="batch size M", ylabel="E‖g_B − g‖²", title="gradient noise ∝ 1/M")
    axes[1].legend(fontsize=8)
    _save(fig, ctx.figure("lr_batch_size"))
