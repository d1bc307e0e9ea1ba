"""Experiment ``init``: activation variance across depth, naive vs Xavier vs He init (seeds 000, 002, 004).

Seed 002: for a ReLU layer with d zero-mean unit-variance inputs and weights of variance σ²,
"Var(h_j) = dσ²/2", so σ² = 2/d keeps it constant (He). What dσ²/2 gives is the second moment
E[h_j²]: the variance proper is dσ²(½ − 1/(2π)) ≈ 0.341·dσ², i.e. (1 − 1/π)·dσ²/2. Across
layers E[h_l²] = (dσ²/2)·E[h_{l−1}²] (zero biases, symmetric weights), so the second moment
moves by a factor dσ²/2 per layer: 1 for He, ½ for Xavier on square layers (σ² = 1/d),
d·10⁻⁴/2 for a naive N(0, 0.01²), d/24 for seed 003's U[−0.5, 0.5]. Xavier's target is tanh
(seed 000: "works well with tanh and sigmoid"), where it keeps the signal alive for many layers.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from .base import experiment
from .checkpointing import one_blas_thread

RELU_INITS = {
    "naive N(0, 0.01²)": ({"normal": 0.01}, lambda d: d * 1e-4 / 2),
    "naive U[−0.5, 0.5]": ({"uniform": [-0.5, 0.5]}, lambda d: d / 24),
    "Xavier": ("xavier_normal", lambda d: 0.5),
    "He": ("he_normal", lambda d: 1.0),
}


def second_moments(activation, init, width, depth, batch, seed):
    """E[h_l²] and Var(h_l) for l = 1..depth (hidden layers), inputs N(0, I_width)."""
    model = nn.MLP([width] * (depth + 1) + [1], activation=activation, init=init)
    model.init(seed=seed)
    X = np.random.default_rng(seed + 7).standard_normal((batch, width))
    seen = {}
    model.apply(model.params, X, record=lambda name, a: seen.__setitem__(name, a))
    hs = [seen[str(2 * k + 1)] for k in range(depth)]  # Dense k fused with its activation: step 2k + 1
    return np.array([np.mean(h * h) for h in hs]), np.array([np.var(h) for h in hs]), hs


def averaged(activation, init, width, depth, batch, seeds):
    """Geometric means over ``seeds`` networks of E[h_l²] and Var(h_l), and the last network's h."""
    runs = [second_moments(activation, init, width, depth, batch, s) for s in seeds]
    m2 = np.exp(np.mean([np.log(r[0]) for r in runs], axis=0))
    var = np.exp(np.mean([np.log(r[1]) for r in runs], axis=0))
    return m2, var, runs[-1][2]


def _factor(m2):
    """Per-layer factor of E[h²], a least-squares fit of log E[h_l²] against l."""
    return float(np.exp(np.polyfit(np.arange(1, len(m2) + 1), np.log(m2), 1)[0]))


@experiment("init", "Initialization: activation variance across depth (naive, Xavier, He)", seeds=["000", "002",
                                                                                                    "004"])
def run(ctx):
    """E[h_l²] through 20+ ReLU and tanh layers for each initialization; seed 002's dσ²/2."""
    width, depth, batch, n_nets = (256, 20, 128, 4) if ctx.quick else (512, 40, 512, 8)
    seeds = [ctx.seed + s for s in range(n_nets)]
    with one_blas_thread():
        relu = {name: averaged("relu", init, width, depth, batch, seeds)
                for name, (init, _) in ctx.stages(RELU_INITS.items(), "ReLU init")}
        tanh = {name: averaged("tanh", init, width, depth, batch, seeds)
                for name, init in (("Xavier", "xavier_normal"), ("He", "he_normal"),
                                   ("naive N(0, 0.01²)", {"normal": 0.01}))}
    rows = []
    for name, (_, predicted) in RELU_INITS.items():
        m2 = relu[name][0]
        rows.append([name, predicted(width), _factor(m2), float(m2[0]), float(m2[-1])])
    ctx.table(f"ReLU, width {width}: E[h²] per layer, predicted dσ²/2 and measured (fit over {depth} layers, "
              f"geometric mean of {n_nets} networks)",
              ["init", "predicted dσ²/2", "measured factor", "E[h_1²]", f"E[h_{depth}²]"], rows)
    for name, (_, predicted) in RELU_INITS.items():
        ctx.check_close(f"ReLU + {name}: E[h²] moves by dσ²/2 = {predicted(width):.4g} per layer", "002",
                        predicted(width), _factor(relu[name][0]), rtol=0.1)
    m2, var, _ = relu["He"]
    ctx.check_between(f"He keeps E[h²] constant across {depth} layers: E[h_{depth}²] / E[h_1²]", "000", 0.5, 2.0,
                      float(m2[-1] / m2[0]), expected="≈ 1")
    # Seed 002's single layer: unit-variance inputs, σ² = 2/d (He) -> dσ²/2 = 1.
    ctx.check_close("one ReLU layer, σ² = 2/d: 'Var(h_j) = dσ²/2' = 1 holds for the second moment E[h²]", "002",
                    1.0, float(m2[0]), rtol=0.05)
    ctx.check_close("... while the variance proper is (1 − 1/π)·dσ²/2 = 0.682", "002", 1 - 1 / math.pi,
                    float(var[0]), rtol=0.05)
    ctx.check_below("Xavier under ReLU: the signal fades, E[h_L²] / E[h_1²] ≈ 2^−(L−1)", "004",
                    1e-3, float(relu["Xavier"][0][-1] / relu["Xavier"][0][0]),
                    expected=f"≈ {2.0 ** -(depth - 1):.2g}")
    tx = tanh["Xavier"][0]
    ctx.check_above(f"tanh + Xavier: after {depth} layers E[h²] is still > 1% of layer 1's (polynomial, not "
                    "exponential decay)", "000", 0.01, float(tx[-1] / tx[0]))
    ctx.check_below(f"tanh + naive N(0, 0.01²): E[h²] collapses (< 1e−10 of layer 1's after {depth} layers)", "000",
                    1e-10, float(tanh["naive N(0, 0.01²)"][0][-1] / tanh["naive N(0, 0.01²)"][0][0]))
    sat = {k: float(np.mean(1 - v[2][-1] ** 2 < 0.1)) for k, v in tanh.items()}
    ctx.table(f"tanh, width {width}: E[h²] and saturated units (1 − h² < 0.1) at layer {depth}",
              ["init", "E[h_1²]", f"E[h_{depth}²]", "saturated"],
              [[k, float(v[0][0]), float(v[0][-1]), sat[k]] for k, v in tanh.items()])
    ctx.note("A single finite-width network's E[h_l²] is a random walk around the prediction (its log has "
             "variance of order depth/width); the figures average the log over several networks. Under tanh, "
             "Xavier's E[h_l²] decays like 1/(2l) (q ← E[tanh²(√q z)] ≈ q − 2q²), slowly; He-scale weights keep it "
             "at a fixed point but push more units toward saturation.")
    _plot(ctx, relu, tanh, width, depth)


def _plot(ctx, relu, tanh, width, depth):
    from ..plots import _plt, _save

    plt = _plt()
    layers = np.arange(1, depth + 1)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.2))
    for name, (m2, _, _) in relu.items():
        line, = ax0.plot(layers, m2, "o-", ms=3, label=f"{name} (measured)")
        pred = RELU_INITS[name][1](width)
        ax0.plot(layers, m2[0] * pred ** (layers - 1), "--", color=line.get_color(), lw=1)
    ax0.set_yscale("log")
    ax0.set_title(f"ReLU, width {width}: E[h_l²] (dashed: × dσ²/2 per layer)")
    for name, (m2, _, _) in tanh.items():
        ax1.plot(layers, m2, "o-", ms=3, label=name)
    ax1.set_yscale("log")
    ax1.set_title(f"tanh, width {width}: E[h_l²]")
    for ax in (ax0, ax1):
        ax.set_xlabel("layer")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, ctx.figure("activation_variance"))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    logs = {name: [np.log10(h[h > 0]) for h in (relu[name][2][k - 1] for k in (1, depth // 2, depth))]
            for name in ("Xavier", "He")}
    lo = min(v.min() for parts in logs.values() for v in parts)
    hi = max(v.max() for parts in logs.values() for v in parts)
    bins = np.linspace(lo, hi, 80)
    for ax, k, i in zip(axes, (1, depth // 2, depth), range(3)):
        for name in ("Xavier", "He"):
            ax.hist(logs[name][i], bins=bins, alpha=0.5, density=True, label=f"ReLU + {name}")
        ax.set_title(f"layer {k}")
        ax.set_xlabel("log10 h (positive units)")
        ax.legend(fontsize=8)
    fig.suptitle(f"ReLU activations, width {width}: Xavier's shrink by √2 per layer, He's stay put")
    _save(fig, ctx.figure("activation_histograms"))
