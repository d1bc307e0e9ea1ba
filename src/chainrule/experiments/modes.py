"""Experiment ``modes``: forward vs reverse mode — time, memory, and the crossover (seed 003).

Forward mode pushes one tangent through the program per input direction: the gradient of a
scalar loss w.r.t. p parameters costs p JVPs, each about one forward pass; it keeps only the
current values, so its memory does not grow with depth. Reverse mode runs the program once,
stores the intermediates, and sweeps back once per output: one VJP for a scalar loss, whatever p,
but memory that grows with depth (seed 003: "reverse-mode autodiff requires a lot of memory").
For a Jacobian of a map ℝ^{n_in} → ℝ^{n_out}: jacfwd costs n_in JVPs, jacrev n_out VJPs.

Times are CPU-time medians of interleaved repeats with BLAS on one thread (see ``backprop_cost``);
the timing claims are log-log slopes with a margin of 0.2 or more, or ratios of two timings taken
side by side with a margin of 2× or more. Memory is the peak of ``tracemalloc`` (NumPy reports its
array buffers to it), which does not depend on load.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from .. import nn
from .. import numpy as cnp
from ..engine.transforms import grad, jacfwd, jacrev, jvp
from .backprop_cost import loglog_slope, single_thread, timings
from .base import experiment


def mlp_loss(sizes, batch, seed=0):
    """A tanh MLP, its parameters and the mse loss on a random batch."""
    model = nn.MLP(sizes, activation="tanh")
    params = model.init(seed=seed)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((batch, sizes[0])), rng.standard_normal((batch, sizes[-1]))
    return model, params, (lambda p: nn.losses.mse(model.apply(p, X), y))


def peak_bytes(fn):
    """Peak bytes allocated (tracemalloc) while ``fn()`` runs, beyond what existed before."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def vector_map(n_in, n_out, hidden=32, seed=0):
    """x (n_in,) -> tanh(W2 tanh(W1 x)) (n_out,): a map whose Jacobian we want."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((hidden, n_in)) / np.sqrt(n_in)
    W2 = rng.standard_normal((n_out, hidden)) / np.sqrt(hidden)
    return lambda x: cnp.tanh(W2 @ cnp.tanh(W1 @ x))


def jacobian_times(n_in, n_out, repeats):
    """Median seconds of jacfwd and jacrev of ``vector_map(n_in, n_out)``, and their paired ratio."""
    f = vector_map(n_in, n_out)
    x = np.random.default_rng(1).standard_normal(n_in)
    t = timings({"jacfwd": lambda: jacfwd(f)(x), "jacrev": lambda: jacrev(f)(x)}, repeats, budget=0.01)
    return float(np.median(t["jacfwd"])), float(np.median(t["jacrev"])), float(np.median(t["jacrev"] / t["jacfwd"]))


def crossover(xs, ratios):
    """Where ratio (t_rev / t_fwd) crosses 1, interpolating log ratio linearly in log x; nan if never."""
    lx, lr = np.log(xs), np.log(ratios)
    for i in range(len(xs) - 1):
        if lr[i] >= 0 > lr[i + 1]:
            return float(np.exp(lx[i] + (lx[i + 1] - lx[i]) * lr[i] / (lr[i] - lr[i + 1])))
    return float("nan")


@experiment("modes", "Forward vs reverse mode: gradient, Jacobian, memory, crossover", seeds=["003"])
def run(ctx):
    """Gradient of a scalar loss by p JVPs vs one VJP; memory vs depth; Jacobians of few-in/many-out
    and many-in/few-out maps; where jacfwd and jacrev cost the same."""
    from ..plots import _plt, _save

    quick = ctx.quick
    repeats = 3 if quick else 7
    with single_thread():
        # -- (a) gradient of a scalar loss w.r.t. p parameters --------------------------------------
        widths = [2, 4, 8, 16, 32, 64] if quick else [2, 4, 8, 16, 32, 64, 128, 256]
        grad_rows = []
        for h in ctx.stages(widths, "width"):
            model, params, loss = mlp_loss([8, h, 1], 16, ctx.seed)
            t = timings({"reverse": lambda loss=loss, p=params: grad(loss)(p),
                         "forward": lambda loss=loss, p=params: jacfwd(loss)(p)}, repeats, budget=0.01)
            grad_rows.append([model.n_params(), float(np.median(t["reverse"])), float(np.median(t["forward"])),
                              float(np.median(t["forward"] / t["reverse"]))])
        model, params, loss = mlp_loss([8, 16, 1], 16, ctx.seed)
        g_rev, g_fwd = grad(loss)(params), jacfwd(loss)(params)
        agree = max(float(np.max(np.abs(g_rev[k] - g_fwd[k]))) for k in params)

        # -- memory vs depth --------------------------------------------------------------------
        depths = [2, 4, 8, 16, 32]
        width, batch = 64, 1024
        mem_rows = []
        for depth in ctx.stages(depths, "depth"):
            model, params, loss = mlp_loss([width] * (depth + 1) + [1], batch, ctx.seed)
            v = {k: np.ones_like(a) for k, a in params.items()}
            mem_rows.append([depth, peak_bytes(lambda loss=loss, p=params: grad(loss)(p)),
                             peak_bytes(lambda loss=loss, p=params, v=v: jvp(loss, (p,), (v,)))])

        # -- (b) Jacobians ------------------------------------------------------------------------
        wide_out = jacobian_times(2, 256, repeats)
        wide_in = jacobian_times(256, 2, repeats)
        n_out = 64
        n_ins = [4, 8, 16, 32, 64, 128, 256, 512] if not quick else [4, 16, 32, 64, 128, 256]
        sweep = [jacobian_times(n, n_out, repeats) for n in n_ins]
        f = vector_map(5, 7)
        x = np.random.default_rng(2).standard_normal(5)
        jac_agree = float(np.max(np.abs(jacfwd(f)(x) - jacrev(f)(x))))

    p = np.array([r[0] for r in grad_rows], float)
    slope_rev = loglog_slope(p, [r[1] for r in grad_rows])
    slope_fwd = loglog_slope(p, [r[2] for r in grad_rows])
    ctx.check_below("forward-mode gradient (p JVPs) equals the reverse-mode one (max abs difference)", "003",
                    1e-12, agree)
    ctx.check_above(f"forward mode: time for ∇L grows at least linearly with p (log-log slope, p = "
                    f"{int(p[0])}…{int(p[-1])}; CPU-time medians of {repeats} interleaved repeats; a fixed "
                    "overhead per gradient bends it below 1 at small p)", "003", 0.7, slope_fwd,
                    expected="≥ 1 (p JVPs, each at least a constant; → 2 once one pass costs O(p))")
    ctx.check_below("reverse mode: time for ∇L (one sweep) hardly grows with p in this range (log-log slope)",
                    "003", 0.5, slope_rev, expected="≈ 0 (one VJP)")
    ctx.check_above(f"at p = {int(p[-1])}: forward-mode time / reverse-mode time (paired repeats)", "003", 10.0,
                    grad_rows[-1][3], expected="≈ p/const, ≫ 1")
    act = width * batch * 8  # bytes of one layer's activations
    d = np.array(depths, float)
    per_layer_rev = float(np.polyfit(d, [r[1] for r in mem_rows], 1)[0]) / act
    per_layer_fwd = float(np.polyfit(d, [r[2] for r in mem_rows], 1)[0]) / act
    ctx.check_above(f"reverse mode stores the intermediates: peak memory grows per layer by ≥ 0.8 × one layer's "
                    f"activations ({batch}×{width} float64; tracemalloc peaks, depth {depths[0]}–{depths[-1]})",
                    "003", 0.8, per_layer_rev)
    ctx.check_below("forward mode keeps only the current values: peak memory per layer (in activations; the "
                    "rest is the tangent of each weight matrix)", "003", 0.25, per_layer_fwd)
    ctx.check_below("Jacobian by jacfwd equals jacrev (max abs difference, 5 → 7 map)", "003", 1e-12, jac_agree)
    ctx.check_above("few inputs, many outputs (2 → 256): jacrev time / jacfwd time", "003", 2.0, wide_out[2])
    ctx.check_above("many inputs, few outputs (256 → 2): jacfwd time / jacrev time", "003", 2.0, 1 / wide_in[2])
    cross = crossover(n_ins, [r[2] for r in sweep])
    ctx.check_between(f"crossover: n_in at which jacfwd and jacrev cost the same, for n_out = {n_out} (within a "
                      "factor 4 of n_out)", "003", n_out / 4, 4 * n_out, cross, expected=f"≈ {n_out}")
    ctx.table("gradient of a scalar loss: p JVPs (forward) vs one VJP (reverse)",
              ["parameters p", "reverse (s)", "forward (s)", "forward / reverse"], grad_rows)
    ctx.table(f"peak memory (MB) of one gradient, width {width}, batch {batch}",
              ["depth", "reverse (grad)", "forward (one JVP)"],
              [[r[0], r[1] / 1e6, r[2] / 1e6] for r in mem_rows])
    ctx.table(f"Jacobian time, n_out = {n_out}", ["n_in", "jacfwd (s)", "jacrev (s)", "jacrev / jacfwd"],
              [[n] + list(r) for n, r in zip(n_ins, sweep)] +
              [["2 (n_out 256)"] + list(wide_out), ["256 (n_out 2)"] + list(wide_in)])

    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    axes[0].loglog(p, [r[2] for r in grad_rows], "s-", label=f"forward: p JVPs (slope {slope_fwd:.2f})")
    axes[0].loglog(p, [r[1] for r in grad_rows], "o-", label=f"reverse: 1 VJP (slope {slope_rev:.2f})")
    axes[0].set(xlabel="parameters p", ylabel="seconds", title="∇ of a scalar loss")
    axes[0].legend(fontsize=8)
    axes[1].plot(depths, [r[1] / 1e6 for r in mem_rows], "o-", label="reverse (grad)")
    axes[1].plot(depths, [r[2] / 1e6 for r in mem_rows], "s-", label="forward (one JVP)")
    axes[1].set(xlabel="depth", ylabel="peak MB (tracemalloc)", title="memory")
    axes[1].legend(fontsize=8)
    axes[2].loglog(n_ins, [r[0] for r in sweep], "s-", label="jacfwd (n_in JVPs)")
    axes[2].loglog(n_ins, [r[1] for r in sweep], "o-", label=f"jacrev ({n_out} VJPs)")
    if np.isfinite(cross):
        axes[2].axvline(cross, color="k", lw=0.8, label=f"crossover n_in ≈ {cross:.0f}")
    axes[2].set(xlabel="n_in", ylabel="seconds", title=f"Jacobian of ℝ^n_in → ℝ^{n_out}")
    axes[2].legend(fontsize=8)
    from matplotlib.ticker import NullFormatter

    for ax in (axes[0], axes[2]):
        ax.xaxis.set_minor_formatter(NullFormatter())
    _save(fig, ctx.figure("modes"))
