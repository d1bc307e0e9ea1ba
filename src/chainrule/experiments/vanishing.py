"""Experiment ``vanishing``: gradients through k sigmoid layers, sigmoid vs ReLU, depth (seeds 000, 001, 003, 004).

Seed 001's table says the gradient through k sigmoid layers scales as (max|σ'|)^k = (1/4)^k:
0.25, 0.016, 9.8e−4, 9.5e−7, 9.1e−13 for k = 1, 3, 5, 10, 20. That is the best case, reached
exactly by a chain of width-1 layers with weight 1 whose pre-activations are all 0. In a real
network each layer multiplies ‖δ‖ by about ‖W_{l+1}ᵀ‖·|σ'(z_l)| (seed 000), so the factor per
layer depends on the weights too: about √(fan_in·E[W²]) · rms σ'. Under Xavier (gain 1) a
sigmoid layer gives ≈ 1/4; tanh ≈ 1 ("4× stronger", seed 001); ReLU with He init exactly 1 on
average; ReLU with seed 003's U[−0.5, 0.5] at width n gives √(n/24), which explodes for n > 24.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..diagnostics import probe
from ..engine.transforms import grad
from .base import experiment

TABLE = {1: 0.25, 3: 0.016, 5: 9.8e-4, 10: 9.5e-7, 20: 9.1e-13}  # seed 001, as printed
NAIVE = {"uniform": [-0.5, 0.5]}  # seed 003's figure 8
INITS = {"naive U[-0.5, 0.5]": NAIVE, "Xavier": "xavier_normal", "He": "he_normal"}


def _half_unit(printed):
    """Half a unit in the last printed digit of a 2-significant-digit number (0.016 -> 0.0005)."""
    exponent = math.floor(math.log10(abs(printed)))
    digits = len(f"{printed:.1e}".split("e")[0].replace(".", "").rstrip("0")) or 1
    return 0.5 * 10 ** (exponent - digits + 1)


def best_case_factor(k):
    """∂a_k/∂x through k sigmoid layers of width 1, weight 1, biases making every z = 0: (1/4)^k."""
    layers = []
    for _ in range(k):
        layers += [nn.Dense(1, 1), nn.Sigmoid()]
    model = nn.Sequential(layers)
    model.init(seed=0)
    for i in range(k):
        model.params[f"{2 * i}.weight"][...] = 1.0
        model.params[f"{2 * i}.bias"][...] = 0.0 if i == 0 else -0.5  # σ(0) = ½, so z = ½ − ½ = 0
    x = np.zeros((1, 1))
    return float(grad(lambda x: model.apply(model.params, x)[0, 0])(x)[0, 0])


def _data(seed, n, d_in=10, classes=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d_in)), rng.integers(0, classes, n)


def _probe(sizes, activation, init, seed, n):
    model = nn.MLP(sizes, activation=activation, init=init)
    model.init(seed=seed)
    X, y = _data(1000 + seed, n, sizes[0], sizes[-1])
    return probe(model, X, y, nn.losses.cross_entropy), model


@experiment("vanishing", "Vanishing and exploding gradients: (1/4)^k, sigmoid vs ReLU, depth", seeds=["000", "001",
                                                                                                     "003", "004"])
def run(ctx):
    """(1/4)^k exactly and in random networks; seed 003's figure 8; first-layer gradients vs depth."""
    _quarter_table(ctx)
    _seed003_figure(ctx)
    _depth_sweep(ctx)


def _quarter_table(ctx):
    depth, width, seeds = (21, 32, 3) if ctx.quick else (21, 64, 10)
    best = {k: best_case_factor(k) for k in sorted({*TABLE, 9})}
    # In a random Xavier sigmoid network: ‖δ_{L−k}‖ / ‖δ_L‖ from the last hidden layer L down.
    ratios = []
    for s in range(seeds):
        p, _ = _probe([10] + [width] * depth + [3], "sigmoid", "xavier_normal", ctx.seed + s, 64)
        d = p.column("delta_norm")[:-1]  # hidden layers only
        ratios.append([d[depth - 1 - k] / d[depth - 1] for k in range(depth)])
    typical = np.exp(np.mean(np.log(ratios), axis=0))
    rows = [[k, TABLE.get(k, "—"), 0.25**k, best[k], float(typical[k]), float(typical[k] ** (1 / k))]
            for k in sorted(best)]
    ctx.table("gradient factor through k sigmoid layers", ["k", "seed 001 (printed)", "(1/4)^k",
              "measured, best case (width 1, z = 0)", f"measured ‖δ_(L−k)‖/‖δ_L‖, Xavier, width {width}",
              "per layer"], rows)
    for k, printed in TABLE.items():
        ctx.check_close(f"best-case factor through k = {k} sigmoid layers matches the table's {printed:g}",
                        "001", printed, best[k], atol=_half_unit(printed))
    ctx.check_close("the best case is exactly (1/4)^k (k = 20, engine vs arithmetic)", "001", 0.25**20, best[20],
                    rtol=1e-12)
    ctx.check_close("10-layer net: first-layer gradient ≤ 0.25⁹ ≈ 3.8e−6 of the output's (9 factors)", "000",
                    3.8e-6, best[9], atol=_half_unit(3.8e-6))
    ctx.check_close("L = 10: 0.25¹⁰ ≈ 1e−6", "004", 1e-6, best[10], atol=0.5e-6)
    ctx.check_close("random Xavier sigmoid net: ‖δ‖ shrinks by ≈ 1/4 per layer over 20 layers (‖W‖ ≈ 1)",
                    "001", 0.25, float(typical[20] ** (1 / 20)), atol=0.05)
    ctx.note("The (1/4)^k table is the best case: every σ'(z) = 1/4 and every weight factor 1. In a random "
             "network the weight factor is √(fan_in·E[W²]), 1 under Xavier, so Xavier sigmoid layers shrink ‖δ‖ "
             "by about 1/4 each; larger weights shrink it less (seed 000: the factor is ‖W‖·|σ'|, not |σ'| alone).")


def _seed003_figure(ctx):
    width, seeds, n = 32, (5 if ctx.quick else 20), 8
    sizes = [10] + [width] * 5 + [3]
    norms = {"sigmoid": [], "relu": []}
    measured, predicted = [], []
    for act in ctx.stages(norms, "activation"):
        for s in range(seeds):
            p, model = _probe(sizes, act, NAIVE, ctx.seed + s, n)
            norms[act].append(p.column("grad_norm"))
            if act == "sigmoid":
                # Seed 000: ‖δ_1‖ ≈ ‖δ_L‖ ∏ ‖W_{l+1}ᵀ‖ |σ'(a_l)|, with ‖W‖ the RMS gain √(fan_in E[W²]) and
                # |σ'| its root mean square over the batch.
                names = [x.name for x in p.layers]
                prod = 1.0
                for k in range(4):
                    h = p.h[names[k]]
                    W = model.params[names[k + 1]]
                    prod *= math.sqrt(np.mean((h * (1 - h)) ** 2)) * math.sqrt(W.shape[1] * np.mean(W**2))
                d = p.column("delta_norm")
                measured.append(d[0] / d[4])
                predicted.append(prod)
    geo = {a: np.exp(np.mean(np.log(v), axis=0)) for a, v in norms.items()}
    ratio = {a: float(g[0] / g[4]) for a, g in geo.items()}
    _plot_seed003(ctx, norms, width, seeds)
    ctx.table(f"seed 003 fig. 8: ‖∂L/∂W_l‖ (geometric mean of {seeds} nets, 5 hidden layers of {width}, U[−0.5, 0.5], "
              f"cross-entropy on {n} examples)", ["layer", "sigmoid", "ReLU"],
              [[k + 1, float(geo["sigmoid"][k]), float(geo["relu"][k])] for k in range(6)])
    ctx.check_below("sigmoid: first hidden layer's gradient < 5% of the fifth's (it vanishes)", "003", 0.05,
                    ratio["sigmoid"])
    ctx.check_between("ReLU: first hidden layer's gradient within 3× of the fifth's (it does not vanish)", "003",
                      1 / 3, 3.0, ratio["relu"])
    fit = float(np.exp(np.mean(np.log(np.array(measured) / np.array(predicted)))))
    ctx.check_between("‖δ_1‖/‖δ_5‖ ≈ ∏ ‖W_(l+1)‖·|σ'(z_l)| (RMS gain, RMS σ'): measured / predicted", "000",
                      1 / 1.5, 1.5, fit, expected="≈ 1 (within a factor 1.5)")


def _plot_seed003(ctx, norms, width, seeds):
    from ..plots import _plt, _save

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    layers = np.arange(1, 7)
    for act, color in (("sigmoid", "C0"), ("relu", "C3")):
        v = np.array(norms[act])
        ax.plot(layers, np.exp(np.mean(np.log(v), axis=0)), "o-", color=color, label=act)
        ax.fill_between(layers, v.min(axis=0), v.max(axis=0), color=color, alpha=0.15)
    ax.set_yscale("log")
    ax.set_xticks(layers)
    ax.set_xticklabels(["1", "2", "3", "4", "5", "out"])
    ax.set_xlabel("layer")
    ax.set_ylabel("‖∂L/∂W_l‖")
    ax.set_title(f"5 hidden layers of {width}, W ~ U[−0.5, 0.5] ({seeds} nets; band: min–max)")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, ctx.figure("sigmoid_vs_relu_uniform_init"))


def first_layer_logs(activation, init_name, width, depths, seed):
    """One task of the depth sweep: log ‖∂L/∂W_1‖ at initialization for each depth."""
    return [math.log(_probe([10] + [width] * d + [3], activation, INITS[init_name], seed, 32)[0].layers[0].grad_norm)
            for d in depths]


def _depth_sweep(ctx):
    width = 64
    depths = [2, 4, 8, 16] if ctx.quick else [2, 4, 8, 16, 32, 48]
    seeds = 2 if ctx.quick else 5
    curves, factor = {}, {}
    # the depth sweep, one task per (activation, init, seed), through the sweep runner (ctx.map)
    cells = [(act, iname) for act in ("sigmoid", "tanh", "relu") for iname in INITS]
    tasks = [(act, iname, width, depths, ctx.seed + s) for act, iname in cells for s in range(seeds)]
    logs = iter(ctx.map(first_layer_logs, tasks, "depth sweep"))
    for cell in cells:
        mean = np.mean([next(logs) for _ in range(seeds)], axis=0)
        curves[cell] = np.exp(mean)
        factor[cell] = float(np.exp(np.polyfit(depths, mean, 1)[0]))
    _plot_sweep(ctx, depths, curves, width)
    ctx.table(f"first-layer gradient: factor per added layer (fit over depths {depths}, width {width})",
              ["activation", *INITS], [[a, *(factor[a, i] for i in INITS)] for a in ("sigmoid", "tanh", "relu")])
    ctx.check_close("ReLU + He: first-layer gradient constant with depth (factor per layer 1)", "000", 1.0,
                    factor["relu", "He"], atol=0.15)
    ctx.check_close("ReLU + Xavier: halves E[δ²] per layer, factor √½", "000", math.sqrt(0.5),
                    factor["relu", "Xavier"], atol=0.1)
    ctx.check_close(f"exploding: ReLU + U[−0.5, 0.5] at width {width} grows by √(n/24) = {math.sqrt(width / 24):.3f} "
                    "per layer", "003", math.sqrt(width / 24), factor["relu", "naive U[-0.5, 0.5]"], rtol=0.1)
    ctx.check_close("sigmoid + Xavier: ≈ 1/4 per layer", "001", 0.25, factor["sigmoid", "Xavier"], atol=0.05)
    ctx.check_below("sigmoid vanishes under every init: largest factor per layer", "001", 0.6,
                    max(factor["sigmoid", i] for i in INITS))
    ctx.check_between("tanh's signal is ≈ 4× sigmoid's per layer (max derivative 1 vs 1/4), Xavier", "001", 3.0,
                      5.0, factor["tanh", "Xavier"] / factor["sigmoid", "Xavier"], expected="≈ 4")


def _plot_sweep(ctx, depths, curves, width):
    from ..plots import _plt, _save

    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), sharey=True)
    for ax, act in zip(axes, ("sigmoid", "tanh", "relu")):
        for iname in INITS:
            ax.plot(depths, curves[act, iname], "o-", label=iname)
        ax.set_yscale("log")
        ax.set_title(act)
        ax.set_xlabel("hidden layers")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("‖∂L/∂W_1‖ (first layer)")
    axes[0].legend()
    fig.suptitle(f"First-layer gradient vs depth, width {width}")
    _save(fig, ctx.figure("depth_sweep"))
