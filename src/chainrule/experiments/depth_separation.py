"""Experiment ``depth_separation``: Telgarsky's sawtooth and linear regions vs depth (seeds 001, 000).

The tent map t(x) = 2 ReLU(x) − 4 ReLU(x − ½) is 2x on [0, ½] and 2 − 2x on [½, 1]: one ReLU layer
of width 2. Composed k times it is a sawtooth with 2^(k−1) teeth, 2^k linear pieces — from a
network of k hidden layers of width 2 (2k neurons). A network with one hidden layer of w ReLUs has
at most w + 1 pieces, so it needs at least 2^k − 1 neurons for the same function; on [0, 1] it
needs exactly 2^k (the first slope must be carried by a neuron at 0 — see ``piecewise_linear``).

Seed 001 says L layers "create O(n^L) linear regions"; that is the *maximum*. Random networks at
initialization are far from it: at a fixed budget of neurons their region count along a line
does not grow with depth (Hanin & Rolnick, 2019).
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..errors import ConfigError
from .base import experiment
from .piecewise_linear import best_k_neuron_error, count_pieces, interpolant


def sawtooth_network(k):
    """k hidden ReLU layers of width 2 computing t∘…∘t (k times) on [0, 1]: an nn.Sequential."""
    if k < 1:
        raise ConfigError("sawtooth_network: k must be at least 1")
    layers, params = [], {}
    for i in range(k):
        layers += [nn.Dense(1 if i == 0 else 2, 2), nn.ReLU()]
        W = np.array([[1.0], [1.0]]) if i == 0 else np.array([[2.0, -4.0], [2.0, -4.0]])
        params[f"{2 * i}.weight"], params[f"{2 * i}.bias"] = W, np.array([0.0, -0.5])
    layers.append(nn.Dense(2, 1))
    params[f"{2 * k}.weight"], params[f"{2 * k}.bias"] = np.array([[2.0, -4.0]]), np.array([0.0])
    model = nn.Sequential(layers)
    model.params = params
    return model


def tent_iterate(x, k):
    """The reference: t(x) = 1 − |2x − 1| applied k times (exact on dyadic x)."""
    for _ in range(k):
        x = 1.0 - np.abs(2.0 * x - 1.0)
    return x


def sawtooth_as_pwl(k):
    """The k-fold tent map as (breakpoints, slopes, value at the first breakpoint) on [0, 1]."""
    n = 2**k
    t = np.arange(1, n) / n
    slopes = np.array([n if i % 2 == 0 else -n for i in range(n)], float)
    return t, slopes, 1.0


def activation_regions(model, x):
    """Linear regions of a ReLU network along the 1-D grid x: 1 + the number of grid cells across
    which the activation pattern (which hidden units are > 0) changes."""
    patterns = []
    model.apply(model.params, x.reshape(-1, 1), record=lambda name, a: patterns.append(np.asarray(a) > 0))
    P = np.concatenate(patterns[:-1], axis=1)  # every hidden layer; the last step is the output
    return 1 + int(np.sum(np.any(P[1:] != P[:-1], axis=1)))


def random_relu_net(depth, width, seed, bias_std=1.0):
    """A [1, width × depth, 1] ReLU network, He-normal weights, biases N(0, bias_std²)."""
    model = nn.MLP([1] + [width] * depth + [1], activation="relu")
    params = model.init(seed=seed)
    rng = np.random.default_rng([seed, 7])
    for key in params:
        if key.endswith("bias"):
            params[key][:] = bias_std * rng.standard_normal(params[key].shape)
    return model


@experiment("depth_separation", "Depth separation: Telgarsky's sawtooth, linear regions vs depth",
            seeds=["001", "000"])
def run(ctx):
    """The sawtooth built exactly and its pieces counted; the width one hidden layer needs; linear
    regions of random ReLU networks vs depth at a fixed neuron budget."""
    from ..plots import _plt, _save

    quick = ctx.quick
    K = 10 if quick else 16
    counts, exact = [], True
    for k in range(1, K + 1):
        x = np.arange(2 ** (k + 3) + 1) / 2 ** (k + 3)  # dyadic grid, 8 points per piece
        y = sawtooth_network(k)(x.reshape(-1, 1))[:, 0]
        exact &= bool(np.array_equal(y, tent_iterate(x, k)))
        counts.append(count_pieces(x, y, rtol=0.0))
    ctx.check_equal(f"depth-k width-2 ReLU network (2k neurons) has exactly 2^k linear pieces on [0, 1], "
                    f"k = 1…{K} (pieces counted from slope changes on a dyadic grid)", "001",
                    [2**k for k in range(1, K + 1)], counts)
    ctx.check_equal("the network equals the k-fold tent map bit for bit on the grid (every k)", "001", True, exact)

    # -- the width one hidden layer needs --------------------------------------------------------
    rows, shallow_err = [], 0.0
    for k in range(1, min(K, 12) + 1):
        n = 2**k
        knots = np.arange(n + 1) / n
        shallow = interpolant(knots, tent_iterate(knots, k))
        x = np.arange(8 * n + 1) / (8 * n)
        shallow_err = max(shallow_err, float(np.max(np.abs(shallow(x.reshape(-1, 1))[:, 0] - tent_iterate(x, k)))))
        rows.append([k, 2 * k, sawtooth_network(k).n_params(), n - 1, n, shallow.n_params()])
    ctx.check_below(f"one hidden layer with 2^k neurons reproduces the depth-k sawtooth (k ≤ {min(K, 12)}; "
                    "max error on the grid)", "001", 1e-12, shallow_err)
    grid = np.linspace(0.0, 1.0, 2049)
    fewer = [best_k_neuron_error(*sawtooth_as_pwl(k), grid) for k in (1, 2, 3)]
    ctx.check_above("with 2^k − 1 neurons (the counting bound: w neurons make ≤ w + 1 pieces) no orientation "
                    "of one neuron per breakpoint fits on [0, 1] (best sup error, k = 1, 2, 3)", "001", 0.01,
                    min(fewer), expected="> 0: 2^k neurons are needed")
    ctx.table("neurons to compute the depth-k sawtooth", ["k", "deep: neurons (k layers × 2)", "deep: parameters",
              "shallow: lower bound 2^k − 1", "shallow: neurons used (exact)", "shallow: parameters"], rows)

    # -- random networks at a fixed budget -----------------------------------------------------
    budget = 24 if quick else 48
    depths = [d for d in (1, 2, 3, 4, 6, 8, 12) if budget % d == 0 and budget // d >= 2]
    n_nets = 6 if quick else 20
    x = np.linspace(-5.0, 5.0, 2**14 if quick else 2**16)
    x_fine = np.linspace(-5.0, 5.0, 2**16 if quick else 2**18)
    means, stable = [], True
    for depth in ctx.stages(depths, "random networks, depth"):
        nets = [random_relu_net(depth, budget // depth, ctx.seed * 1000 + s) for s in range(n_nets)]
        counts_r = [activation_regions(m, x) for m in nets]
        stable &= counts_r[0] == activation_regions(nets[0], x_fine)
        means.append(float(np.mean(counts_r)))
    ctx.check_equal("region counts are resolved: a 4× finer grid gives the same count (first net per depth)",
                    "001", True, bool(stable))
    ctx.check_below(f"random ReLU networks ({budget} neurons, He weights, N(0,1) biases, x ∈ [−5, 5]): the "
                    f"deepest/shallowest ratio of mean region counts (depth {depths[0]} to {depths[-1]}) — no "
                    "exponential growth with depth at initialization", "001", 1.5, means[-1] / means[0],
                    expected="≈ 1 or less (Hanin & Rolnick 2019)")
    ctx.check_below(f"…and at every depth the mean count stays below the {budget + 1} pieces one layer of "
                    f"{budget} can make, far from the sawtooth's 2^{budget // 2} with the same budget", "001",
                    budget + 1, max(means))
    ctx.table(f"linear regions along [−5, 5] of random ReLU networks with {budget} neurons ({n_nets} nets "
              "per depth)", ["depth", "width", "mean regions", "sawtooth with the same neurons"],
              [[d, budget // d, m, 2 ** (budget // 2)] for d, m in zip(depths, means)])

    # -- figures -------------------------------------------------------------------------------
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    xx = np.linspace(0, 1, 4097)
    for row, k in enumerate((1, 2, 3, 5)):
        axes[0].plot(xx, sawtooth_network(k)(xx.reshape(-1, 1))[:, 0] + 1.3 * row, lw=1)
        axes[0].text(1.02, 1.3 * row + 0.5, f"k = {k}\n{2**k} pieces", fontsize=8, va="center")
    axes[0].set(title="sawtooth t^k (offset for clarity)", xlabel="x", yticks=[], xlim=(0, 1.2))
    ks = np.arange(1, K + 1)
    axes[1].semilogy(ks, counts, "o", label="pieces of the depth-k network")
    axes[1].semilogy(ks, 2.0**ks, "k--", label="2^k = neurons one hidden layer needs")
    axes[1].semilogy(ks, 2 * ks, "s-", label="neurons of the deep network = 2k")
    axes[1].set(xlabel="k", title="pieces and the neurons they cost")
    axes[1].legend(fontsize=8)
    axes[2].plot(depths, means, "o-", label=f"random nets, {budget} neurons")
    axes[2].axhline(budget + 1, color="k", ls="--", lw=0.8, label=f"one layer max: {budget + 1}")
    axes[2].set(xlabel="depth (width = budget / depth)", ylabel="linear regions on [−5, 5]",
                title="random networks: no exponential growth")
    axes[2].legend(fontsize=8)
    _save(fig, ctx.figure("depth_sawtooth_regions"))
