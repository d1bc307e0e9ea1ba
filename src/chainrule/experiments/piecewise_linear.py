"""Experiment ``piecewise_linear``: depth-2 ReLU networks represent 1-D piecewise-linear functions (seed 004).

Seed 004, answer 2: f(x) = Σ_{i=1}^k a_i max(0, w_i x + b_i) "can represent any piecewise linear
function with ≤ k pieces (in 1D). Each neuron adds a breakpoint." Built exactly, with an output
bias (needed for f(x₀) ≠ 0) and the function continuous (a ReLU network is):

- on an interval [x₀, x_k]: k neurons for k pieces (k − 1 interior breakpoints) — one neuron at
  x₀ carries the first slope, one at each breakpoint adds its change of slope;
- on all of ℝ: k + 1 neurons for k breakpoints — the first slope needs a neuron facing left.

Counting shows k neurons cannot, in general, do k breakpoints on an interval: each interior kink
needs a neuron of its own, and then the first slope −Σ_{left-facing} (slope change) is fixed by
which neurons face left. The experiment checks that by trying all 2^k orientations.
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import nn
from ..errors import DataError
from .base import experiment


def one_hidden_layer(activation, W1, b1, W2, b2):
    """1 → k → 1 network (nn.Sequential) with σ = ``activation`` hidden units, a linear output and
    the given weights. W1: (k, 1), W2: (1, k)."""
    W1 = np.asarray(W1, float).reshape(-1, 1)
    k = W1.shape[0]
    model = nn.Sequential(nn.Dense(1, k), nn.Activation(activation), nn.Dense(k, 1))
    model.params = {"0.weight": W1, "0.bias": np.asarray(b1, float).reshape(k),
                    "2.weight": np.asarray(W2, float).reshape(1, k), "2.bias": np.asarray(b2, float).reshape(1)}
    return model


def relu_network(W1, b1, W2, b2):
    """1 → k → 1 ReLU network with the given weights. W1: (k, 1), W2: (1, k)."""
    return one_hidden_layer("relu", W1, b1, W2, b2)


def interpolant(xs, ys):
    """The depth-2 ReLU network through the knots (x_i, y_i), linear between them, exact on [x_0, x_n].

    xs strictly increasing, n + 1 knots -> n pieces, n neurons:
    f(x) = y₀ + s₁ ReLU(x − x₀) + Σ_{i=1}^{n−1} (s_{i+1} − s_i) ReLU(x − x_i), s_i the slope of piece i.
    """
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    if xs.ndim != 1 or len(xs) < 2 or xs.shape != ys.shape or np.any(np.diff(xs) <= 0):
        raise DataError("interpolant: need at least two knots with strictly increasing x")
    slopes = np.diff(ys) / np.diff(xs)
    a = np.concatenate([slopes[:1], np.diff(slopes)])
    return relu_network(np.ones(len(a)), -xs[:-1], a, ys[0])


def on_line(breakpoints, slopes, value):
    """A depth-2 ReLU network equal on all of ℝ to the continuous piecewise-linear function with the
    given k breakpoints t_1 < … < t_k, k + 1 slopes s_0 … s_k and f(t_1) = value. k + 1 neurons:
    f(x) = value − s_0 ReLU(t_1 − x) + s_1 ReLU(x − t_1) + Σ_{i≥2} (s_i − s_{i−1}) ReLU(x − t_i).
    """
    t, s = np.asarray(breakpoints, float), np.asarray(slopes, float)
    if len(s) != len(t) + 1 or len(t) < 1 or np.any(np.diff(t) <= 0):
        raise DataError("on_line: need k ≥ 1 increasing breakpoints and k + 1 slopes")
    W1 = np.concatenate([[-1.0, 1.0], np.ones(len(t) - 1)])
    b1 = np.concatenate([[t[0], -t[0]], -t[1:]])
    a = np.concatenate([[-s[0], s[1]], np.diff(s[1:])])
    return relu_network(W1, b1, a, value)


def pwl_values(x, breakpoints, slopes, value):
    """The reference: the same function evaluated piece by piece (no ReLUs)."""
    t, s = np.asarray(breakpoints, float), np.asarray(slopes, float)
    knots_y = value + np.concatenate([[0.0], np.cumsum(s[1:-1] * np.diff(t))])
    i = np.searchsorted(t, x, side="right")  # piece index 0..k
    anchor = np.clip(i - 1, 0, len(t) - 1)
    return knots_y[anchor] + s[i] * (x - t[anchor])


def count_pieces(x, y, rtol=1e-9):
    """Linear pieces of y(x) sampled on a grid: 1 + the number of slope changes between grid cells.

    A cell that contains a kink has a slope between its neighbours'; a kink is counted once."""
    slopes = np.diff(y) / np.diff(x)
    scale = rtol * max(1.0, float(np.max(np.abs(slopes))))
    changes = np.abs(np.diff(slopes)) > scale
    # a kink inside a cell changes the slope on both sides of that cell: count runs of changes once
    starts = changes & ~np.concatenate([[False], changes[:-1]])
    return 1 + int(np.sum(starts))


def best_k_neuron_error(breakpoints, slopes, value, x):
    """The best sup error on grid x of any k-neuron depth-2 ReLU network with one neuron at each of
    the k breakpoints (necessary for exactness), over all 2^k orientations, output weights by least
    squares. 0 would mean k neurons suffice."""
    t = np.asarray(breakpoints, float)
    target = pwl_values(x, breakpoints, slopes, value)
    best = np.inf
    for signs in itertools.product((1.0, -1.0), repeat=len(t)):
        features = np.column_stack([np.maximum(0.0, sg * (x - ti)) for sg, ti in zip(signs, t)] + [np.ones_like(x)])
        coef, *_ = np.linalg.lstsq(features, target, rcond=None)
        best = min(best, float(np.max(np.abs(features @ coef - target))))
    return best


def random_pwl(k, rng, lo=-1.0, hi=1.0):
    """k breakpoints in (lo, hi) with random gaps (each at least a third of the mean gap), k + 1
    slopes in [−3, 3], a value at the first breakpoint."""
    gaps = rng.uniform(0.5, 1.5, k + 1)
    t = lo + (hi - lo) * np.cumsum(gaps)[:-1] / np.sum(gaps)
    return t, rng.uniform(-3, 3, k + 1), float(rng.uniform(-1, 1))


@experiment("piecewise_linear", "Depth-2 ReLU networks represent 1-D piecewise-linear functions",
            seeds=["004"])
def run(ctx):
    """Seed 004's answer 2, built exactly: k neurons for k pieces on an interval, k + 1 for k
    breakpoints on the whole line; and why k neurons do not give k breakpoints."""
    from ..plots import _plt, _save

    rng = np.random.default_rng(ctx.seed)
    ks = [1, 2, 3, 5, 10, 50] if ctx.quick else [1, 2, 3, 5, 10, 50, 200, 1000]
    x = np.linspace(-1.5, 1.5, 30001)
    rows, worst_interval, worst_line, worst_knots, pieces_ok = [], 0.0, 0.0, 0.0, True
    for k in ctx.stages(ks, "pieces"):
        t, s, v = random_pwl(k, rng)
        # interval version: knots at -1.25, the breakpoints and 1.25 -> k + 1 pieces, k + 1 neurons
        knots = np.concatenate([[-1.25], t, [1.25]])
        net = interpolant(knots, pwl_values(knots, t, s, v))
        inside = x[(x >= -1.25) & (x <= 1.25)]
        ref = pwl_values(inside, t, s, v)
        scale = max(1.0, float(np.max(np.abs(ref))))
        err_interval = float(np.max(np.abs(net(inside.reshape(-1, 1))[:, 0] - ref))) / scale
        err_knots = float(np.max(np.abs(net(knots.reshape(-1, 1))[:, 0] - pwl_values(knots, t, s, v)))) / scale
        line = on_line(t, s, v)
        wide = np.concatenate([np.linspace(-1e3, -1.5, 1000), x, np.linspace(1.5, 1e3, 1000)])
        ref_wide = pwl_values(wide, t, s, v)
        err_line = float(np.max(np.abs(line(wide.reshape(-1, 1))[:, 0] - ref_wide) / np.maximum(1.0, np.abs(ref_wide))))
        n_pieces = count_pieces(inside, net(inside.reshape(-1, 1))[:, 0]) if k <= 50 else k + 1
        pieces_ok &= n_pieces == k + 1
        worst_interval, worst_line = max(worst_interval, err_interval), max(worst_line, err_line)
        worst_knots = max(worst_knots, err_knots)
        rows.append([k, k + 1, len(net.params["2.weight"][0]), err_interval, err_knots, len(line.params["2.weight"][0]),
                     err_line])
    ctx.check_below(f"interval: the (k+1)-neuron network through the knots equals a random continuous PWL "
                    f"function with k + 1 pieces, k = {', '.join(map(str, ks))} (max relative error on 30001 "
                    "grid points)", "004", 1e-12, worst_interval)
    ctx.check_below("…and at the knots and breakpoints themselves (max relative error)", "004", 1e-12,
                    worst_knots)
    ctx.check_below("whole line: k + 1 neurons represent k breakpoints exactly on ℝ (max relative error on "
                    "[−1000, 1000])", "004", 1e-12, worst_line)
    ctx.check_equal("each neuron adds one breakpoint: the built networks have exactly k + 1 linear pieces "
                    "(counted from slope changes on the grid, k ≤ 50)", "004", True, bool(pieces_ok))
    ctx.table("exact constructions (errors relative to max(1, |f|))",
              ["breakpoints k", "pieces", "neurons (interval)", "max error (grid)", "max error (knots)",
               "neurons (ℝ)", "max error (ℝ, |x| ≤ 1000)"], rows)

    # -- k neurons for k breakpoints: all orientations fail --------------------------------------
    grid = np.linspace(-1.0, 1.0, 2001)
    fails = []
    for k in (1, 2, 3, 4, 6):
        t = np.linspace(-0.6, 0.6, k)
        s = np.array([1.0 + 0.5 * (i % 2) * (-1) ** (i // 2) for i in range(k + 1)]) + np.arange(k + 1) * 0.3
        fails.append([k, best_k_neuron_error(t, s, 0.0, grid)])
    ctx.check_above("k neurons cannot give k breakpoints on an interval in general: best sup error over all "
                    "2^k orientations (neuron at each breakpoint, least-squares output layer), k = 1, 2, 3, 4, 6",
                    "004", 1e-3, min(r[1] for r in fails), expected="> 0 (k + 1 neurons needed)")
    ctx.table("k neurons for k breakpoints: best error over all orientations", ["k", "best sup error"], fails)
    ctx.note("So seed 004's count is right as it is stated — k neurons for ≤ k pieces (on an interval, "
             "with an output bias) — but not with 'pieces' read as 'breakpoints'. In d ≥ 2 inputs a depth-2 "
             "ReLU network cannot represent every piecewise-linear function (max(0, x₁, x₂) needs depth 3).")

    # -- figure --------------------------------------------------------------------------------
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    t, s, v = random_pwl(5, np.random.default_rng(ctx.seed + 1))
    knots = np.concatenate([[-1.25], t, [1.25]])
    net = interpolant(knots, pwl_values(knots, t, s, v))
    xx = np.linspace(-1.25, 1.25, 2001)
    axes[0].plot(xx, net(xx.reshape(-1, 1))[:, 0], lw=2, label="network (6 ReLUs)")
    axes[0].plot(knots, pwl_values(knots, t, s, v), "ko", label="knots")
    W1, b1, W2 = net.params["0.weight"][:, 0], net.params["0.bias"], net.params["2.weight"][0]
    for i in range(len(W2)):
        axes[0].plot(xx, net.params["2.bias"][0] * (i == 0) + W2[i] * np.maximum(0, W1[i] * xx + b1[i]), "--",
                     lw=0.8)
    axes[0].set(title="a PWL function and its hinges a_i ReLU(x − x_i)", xlabel="x")
    axes[0].legend(fontsize=8)
    axes[1].semilogy([r[0] for r in rows], [max(r[3], 1e-17) for r in rows], "o-", label="interval, grid")
    axes[1].semilogy([r[0] for r in rows], [max(r[6], 1e-17) for r in rows], "s-", label="ℝ, |x| ≤ 1000")
    axes[1].axhline(1e-12, color="C3", ls="--", label="tolerance")
    axes[1].set(xscale="log", xlabel="breakpoints k", ylabel="max relative error", title="exact up to round-off")
    axes[1].legend(fontsize=8)
    _save(fig, ctx.figure("pwl_construction"))
