"""Figures of the diagnostics: per-layer heatmaps over training, activation statistics, signal
propagation across depth, loss slices and sharpness. Each function returns its figure and, with
``path``, writes it as a PNG (as ``chainrule.plots``); one-panel figures take ``ax=``. Layers are
named the same way in every panel: ``chainrule.plots.layer_label`` ('0' for '0.weight')."""

from __future__ import annotations

import numpy as np

from ..plots import _axes, _done, _plt, layer_label

_short = layer_label


def heatmap(recorder, path=None, metric="grad_norm", title=None, ax=None):
    """Layer × record heatmap of log10 ``metric`` (rows: layers, first at the top)."""
    M, names = recorder.matrix(metric)
    fig, ax = _axes(ax, (8, 0.25 * len(names) + 2.2))
    steps = recorder.steps_of(metric) if hasattr(recorder, "steps_of") else recorder.steps
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log10(np.where(M > 0, M, np.nan))
    extent = [steps[0], steps[-1] if len(steps) > 1 else steps[0] + 1, len(names) - 0.5, -0.5] if steps else None
    im = ax.imshow(L, aspect="auto", interpolation="nearest", cmap="viridis", extent=extent)
    step = max(1, len(names) // 16)
    ax.set_yticks(range(0, len(names), step))
    ax.set_yticklabels([_short(n) for n in names[::step]], fontsize=7)
    ax.set_xlabel("step")
    ax.set_ylabel("layer (weight)")
    ax.set_title(title or f"log10 {metric}")
    fig.colorbar(im, ax=ax)
    return _done(fig, path)


def dynamics(recorder, path=None, title="Training dynamics"):
    """Four panels: ‖∂L/∂W‖ heatmap, ‖δ‖ heatmap (or ‖W‖), update ratios, activation std by layer."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
    heatmap(recorder, None, "grad_norm", "log10 ‖∂L/∂W_l‖", ax=axes[0, 0])
    second = "delta_norm" if "delta_norm" in recorder.series else "weight_norm"
    heatmap(recorder, None, second, f"log10 {'‖δ_l‖' if second == 'delta_norm' else '‖W_l‖'}", ax=axes[0, 1])
    for metric, ax, label in (("update_ratio", axes[1, 0], "‖ΔW_l‖ / ‖W_l‖"), ("act_std", axes[1, 1], "std(h_l)")):
        M, names = recorder.matrix(metric)
        if M.size == 0:
            ax.set_visible(False)
            continue
        steps = np.array(recorder.steps_of(metric) if hasattr(recorder, "steps_of") else recorder.steps)
        cmap = plt.get_cmap("viridis", max(2, len(names)))
        for k, (n, row) in enumerate(zip(names, M)):
            ax.plot(steps[: len(row)], row, color=cmap(k), lw=1,
                    label=f"layer {_short(n)}" if len(names) <= 8 else None)
        with np.errstate(invalid="ignore"):
            if np.nanmin(np.where(np.isfinite(M), M, np.nan), initial=np.inf) > 0:
                ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(label + " (dark: first layer)")
        ax.grid(alpha=0.3)
        if len(names) <= 8:
            ax.legend(fontsize=7)
        else:  # the colour scale names the layers, as the heatmaps' rows do
            sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(-0.5, len(names) - 0.5))
            bar = fig.colorbar(sm, ax=ax, ticks=[0, len(names) - 1])
            bar.set_ticklabels([_short(names[0]), _short(names[-1])])
            bar.set_label("layer (weight)")
    fig.suptitle(title)
    return _done(fig, path)


def _layer_axis(ax, layers):
    """Depth on the x axis, each tick named as the heatmaps' rows are (the last one is the output)."""
    depth = np.arange(1, len(layers) + 1)
    step = max(1, len(layers) // 16)
    ax.set_xticks(depth[::step])
    ax.set_xticklabels([_short(s.name) for s in layers[::step]], fontsize=7)
    ax.set_xlabel("layer (weight; last = output)")


def signal_propagation(layers, path=None, title="Signal propagation at initialization"):
    """std(h_l), ‖δ_l‖ and ‖∂L/∂W_l‖ against depth (log scale), from ``LayerSignals``."""
    plt = _plt()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
    depth = np.arange(1, len(layers) + 1)
    ax0.plot(depth, [s.act_std for s in layers], "o-", label="std(h_l)")
    ax0.plot(depth, [np.sqrt(s.act_second_moment) for s in layers], "s--", label="√E[h_l²]")
    ax0.set_title("forward: activations")
    ax1.plot(depth, [s.delta_norm for s in layers], "o-", label="‖δ_l‖")
    ax1.plot(depth, [s.grad_norm for s in layers], "s--", label="‖∂L/∂W_l‖")
    ax1.set_title("backward: error signals and gradients")
    for ax in (ax0, ax1):
        values = [v for line in ax.get_lines() for v in line.get_ydata() if np.isfinite(v)]
        if values and min(values) > 0:
            ax.set_yscale("log")
        _layer_axis(ax, layers)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _done(fig, path)


def activation_stats(layers, path=None, h=None, title="Activation statistics by layer"):
    """Distribution of h_l per layer (box plots if the arrays ``h`` are given, else mean ± std),
    and the fractions of dead ReLUs and saturated sigmoid/tanh units."""
    plt = _plt()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 3.8))
    depth = np.arange(1, len(layers) + 1)
    if h:
        rng = np.random.default_rng(0)
        data = []
        for s in layers:
            v = np.asarray(h[s.name]).ravel()
            data.append(v if v.size <= 4000 else rng.choice(v, 4000, replace=False))
        ax0.boxplot(data, positions=depth, showfliers=False)
    else:
        ax0.errorbar(depth, [s.act_mean for s in layers], yerr=[s.act_std for s in layers], fmt="o", capsize=3)
    _layer_axis(ax0, layers)
    ax0.set_title("h_l (box: quartiles, whiskers: 1.5 IQR)" if h else "mean(h_l) ± std(h_l)")
    ax0.grid(alpha=0.3)
    dead = [np.nan if s.dead_fraction is None else s.dead_fraction for s in layers]
    sat = [np.nan if s.saturated_fraction is None else s.saturated_fraction for s in layers]
    ax1.bar(depth - 0.2, dead, width=0.4, label="dead ReLUs")
    ax1.bar(depth + 0.2, sat, width=0.4, label="saturated sigmoid/tanh")
    ax1.set_ylim(0, 1)
    _layer_axis(ax1, layers)
    ax1.set_title("fraction of units")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    fig.suptitle(title)
    return _done(fig, path)


def loss_slices(slices, path=None, title="Loss along a filter-normalized direction", ax=None):
    """The 1-D slices recorded by a ``TrainingRecorder`` (one curve per record)."""
    plt = _plt()
    fig, ax = _axes(ax, (6, 4))
    cmap = plt.get_cmap("viridis", max(2, len(slices)))
    for k, s in enumerate(slices):
        ax.plot(s["alphas"], s["losses"], color=cmap(k), label=f"step {s['step']}")
    ax.set_xlabel("α")
    ax.set_ylabel("L(θ + α d)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _done(fig, path)


def sharpness(recorder, path=None, learning_rate=None, title="Sharpness: top Hessian eigenvalue", ax=None):
    """λ_max over training, with the gradient-descent stability limit 2/η if ``learning_rate``."""
    fig, ax = _axes(ax, (6, 4))
    ax.plot(recorder.sharpness["steps"], recorder.sharpness["values"], "o-", label="λ_max")
    if learning_rate:
        ax.axhline(2 / learning_rate, color="C3", ls="--", label="2/η")
    ax.set_xlabel("step")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _done(fig, path)
