"""Experiment ``depth_rescue``: a deep sigmoid network does not train; seed 001's remedies make it train.

Seed 001: "Sigmoid makes deep networks untrainable", and four innovations solved it: ReLU,
residual connections, batch normalization, careful initialization (Xavier for sigmoid/tanh, He
for ReLU). Here a 30-layer (full: 50-layer) sigmoid network with Xavier init — careful init
alone — is trained on the two-class spiral next to the same depth with

- ReLU + He init;
- residual connections a + W₂σ(W₁a + b₁) + b₂ around pairs of sigmoid layers (He et al.'s
  two-layer block; seed 001 writes a^(l) = σ(z^(l)) + a^(l−1));
- batch normalization before every sigmoid.

The ``TrainingRecorder`` watches each run: its per-layer gradient-norm heatmaps show the
plain network's first layers receiving ~10⁻¹⁸ of the last layer's gradient, and it warns.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import nn
from ..data import Standardizer, make_spiral
from ..diagnostics import GradientWarning, TrainingRecorder
from ..train import Trainer
from .base import experiment
from .checkpointing import one_blas_thread

CHANCE_LOSS = math.log(2)  # cross-entropy of a constant ½/½ prediction on two balanced classes


def plain(depth, width, activation):
    return nn.MLP([2] + [width] * depth + [2], activation=activation)


def residual(depth, width, activation="sigmoid"):
    """depth sigmoid layers: one in front, then (depth − 1)//2 blocks a + W₂σ(W₁a + b₁) + b₂ … (same Dense count)."""
    layers = [nn.Dense(2, width), nn.Activation(activation)]
    for _ in range((depth - 1) // 2):
        layers.append(nn.Residual(nn.Dense(width, width), nn.Activation(activation), nn.Dense(width, width)))
    layers.append(nn.Dense(width, 2))
    return nn.Sequential(layers)


def batchnorm(depth, width, activation="sigmoid"):
    return nn.MLP([2] + [width] * depth + [2], activation=activation, batchnorm=True)


# name: (builder, Adam's learning rate). The sigmoid networks get 0.01; ReLU 0.003, because at 0.01
# a 30-layer ReLU net loses units to dying ReLUs. The plain sigmoid net fails at either rate.
VARIANTS = {
    "sigmoid (Xavier)": (lambda d, w: plain(d, w, "sigmoid"), 0.01),
    "ReLU + He": (lambda d, w: plain(d, w, "relu"), 0.003),
    "sigmoid + residual": (residual, 0.01),
    "sigmoid + batch norm": (batchnorm, 0.01),
}
BASELINE = "sigmoid (Xavier)"


def train(variant, depth, width, X, y, epochs, seed):
    """(history, recorder, warnings issued) for one variant."""
    build, learning_rate = VARIANTS[variant]
    model = build(depth, width)
    model.init(seed=seed)
    # Gradient norms every 4 steps; the probe (‖δ_l‖, activations) only for the figure of the baseline.
    recorder = TrainingRecorder(every=4, probe=(X[:128], y[:128]) if variant == BASELINE else None, seed=seed)
    trainer = Trainer(model, loss="cross_entropy", optimizer="adam", learning_rate=learning_rate, batch_size=50,
                      seed=seed, callbacks=[recorder], verbose=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GradientWarning)
        history = trainer.fit(X, y, epochs=epochs)
    kinds = [w.message for w in caught if issubclass(w.category, GradientWarning)]
    return history, recorder, kinds


def train_summary(variant, depth, width, X, y, epochs, seed):
    """One task: ``train`` on one BLAS thread, returned as plain data (history, the recorder
    rebuilt from its state, the warnings' texts), the same wherever it ran."""
    with one_blas_thread():
        history, recorder, kinds = train(variant, depth, width, X, y, epochs, seed)
    copy = TrainingRecorder(every=recorder.every)
    copy.load_state_dict(recorder.state_dict())
    return {k: list(v) for k, v in history.items()}, copy, [str(m) for m in kinds]


@experiment("depth_rescue", "A deep sigmoid network fails; ReLU + He, residuals and batch norm rescue it",
            seeds=["001", "004"])
def run(ctx):
    """Train each variant on the spiral; compare final loss, gradient flow at init, recorder warnings."""
    depth, width, epochs, n_seeds = (30, 32, 60, 1) if ctx.quick else (50, 32, 100, 3)
    X, y = make_spiral(n_per_class=100, n_classes=2, noise=0.1, seed=ctx.seed)
    X = Standardizer().fit_transform(X)
    runs = {v: [] for v in VARIANTS}
    # one task per (variant, seed), through the sweep runner (ctx.map)
    tasks = [(v, depth, width, X, y, epochs, ctx.seed + s) for v in VARIANTS for s in range(n_seeds)]
    done = iter(ctx.map(train_summary, tasks, "variant × seed"))
    for v in VARIANTS:
        runs[v] = [next(done) for _ in range(n_seeds)]
    stats = {}
    for v, rs in runs.items():
        # "Final loss": the mean of the last 5 epochs' training losses (Adam at 0.01 makes single epochs jumpy).
        stats[v] = {"loss": float(np.median([np.mean(h["loss"][-5:]) for h, _, _ in rs])),
                    "accuracy": float(np.median([h["accuracy"][-1] for h, _, _ in rs])),
                    "best": float(min(min(h["loss"]) for h, _, _ in rs)),
                    "ratio0": float(np.exp(np.median([math.log(r.ratios[0]) for _, r, _ in rs]))),
                    "warned": float(np.mean([any("vanishing" in str(m) for m in w) for _, _, w in rs]))}
    ctx.table(f"{depth} layers of width {width}, {epochs} epochs of Adam (batch 50), two-class spiral "
              f"(median of {n_seeds} seed{'s' if n_seeds > 1 else ''})",
              ["network", "learning rate", "final loss (last 5 epochs)", "final accuracy (eval mode)",
               "‖∂L/∂W_1‖/‖∂L/∂W_last‖ at init", "recorder warned"],
              [[v, VARIANTS[v][1], s["loss"], s["accuracy"], s["ratio0"], f"{s['warned']:.0%} of runs"]
               for v, s in stats.items()])
    base = stats[BASELINE]
    ctx.check_above(f"{depth}-layer sigmoid net (Xavier) does not train: lowest epoch loss / ln 2 (chance)", "001",
                    0.9, base["best"] / CHANCE_LOSS, expected="≈ 1 (never better than chance)")
    ctx.check_below("... because its first layer gets almost no gradient at init: ‖∂L/∂W_1‖/‖∂L/∂W_last‖", "001",
                    1e-10, base["ratio0"], expected=f"≈ (1/4)^{depth - 1} = {0.25 ** (depth - 1):.1e}")
    ctx.check_equal("the recorder warns of vanishing gradients in the sigmoid net (fraction of runs)", "001", 1.0,
                    base["warned"])
    for v in list(VARIANTS)[1:]:
        s = stats[v]
        ctx.check_below(f"{v} trains at the same depth: final loss / ln 2", "001", 0.5, s["loss"] / CHANCE_LOSS,
                        expected="< 0.5 (well below chance)")
        ctx.check_between(f"{v}: gradient reaches the first layer at init (‖∂L/∂W_1‖/‖∂L/∂W_last‖)", "001",
                          1e-3, 1e3, s["ratio0"])
        ctx.check_below(f"{v}: the recorder does not warn of vanishing gradients (fraction of runs)", "001", 0.5,
                        s["warned"], expected="0 (a late dip in one run of several is tolerated)")
    ctx.note("The recorder warns when ‖∂L/∂W_1‖/‖∂L/∂W_last‖ < 1e−3 for 3 records in a row. At 50 layers a ReLU "
             "network can lose units while it trains and then trip it late (one run of three in the full version); "
             "the plain sigmoid network trips it from the first step.")
    _plot(ctx, runs, depth)


def _plot(ctx, runs, depth):
    from ..diagnostics.plots import heatmap
    from ..plots import _plt, _save

    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    for ax, (v, rs) in zip(axes.ravel(), runs.items()):
        heatmap(rs[0][1], None, "grad_norm", f"{v}: log10 ‖∂L/∂W_l‖ (rows: layers, first on top)", ax=ax)
    fig.suptitle(f"Per-layer gradient norms while training, {depth} layers (TrainingRecorder)")
    _save(fig, ctx.figure("gradient_heatmaps"))
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4))
    for v, rs in runs.items():
        h, rec, _ = rs[0]
        ax0.plot(np.arange(1, len(h["loss"]) + 1), h["loss"], label=v)
        ax1.plot(rec.steps, rec.ratios, label=v)
    ax0.axhline(CHANCE_LOSS, color="k", ls=":", lw=1, label="chance (ln 2)")
    ax0.set_xlabel("epoch")
    ax0.set_ylabel("training loss")
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_ylabel("‖∂L/∂W_1‖ / ‖∂L/∂W_last‖")
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, ctx.figure("loss_and_gradient_ratio"))
    from ..diagnostics.plots import dynamics

    dynamics(runs[BASELINE][0][1], ctx.figure("sigmoid_dynamics"),
             title=f"{depth}-layer sigmoid network: what the recorder saw")
