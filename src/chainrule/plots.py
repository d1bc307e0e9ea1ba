"""Figures (matplotlib, an optional extra: pip install 'chainrule[plot]').

Every function draws one figure and returns it (a ``matplotlib.figure.Figure``), for notebooks;
with ``path`` it also writes a PNG there (the non-interactive Agg backend, so it works on
machines without a screen) and closes the figure. Functions that draw one panel take ``ax=`` to
draw into an existing axes. ``missing()`` says, before anything is drawn, whether matplotlib is
there and, if not, how to get it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import OptionalDependencyError

INSTALL = "pip install 'chainrule[plot]'"


def missing():
    """None if matplotlib can be imported, else one sentence saying how to get the figures.

    It is imported, not looked up: a matplotlib that is installed but broken (its import raises)
    is missing too."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        if e.name == "matplotlib":  # not there (or blocked): not an import that failed inside it
            return f"figures skipped: they need matplotlib, which is not installed ({INSTALL})"
        reason = (str(e).splitlines() or [""])[0] or type(e).__name__
        return f"figures skipped: matplotlib is installed but cannot be imported ({reason}); reinstall it ({INSTALL})"
    return None


def _plt():
    try:
        import matplotlib

        if not _interactive():
            matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        raise OptionalDependencyError(f"plots need matplotlib: {INSTALL}") from None
    return plt


def _interactive():
    """In a notebook, keep its inline backend (figures returned are shown there)."""
    import sys

    return "ipykernel" in sys.modules


def _save(fig, path):
    """Write ``fig`` as a PNG at ``path`` (folders made as needed), close it, return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _done(fig, path):
    """The figure, written to ``path`` first if one is given."""
    if path is not None:
        _save(fig, path)
    return fig


def _axes(ax, figsize):
    """(figure, axes): the given axes and its figure, or a new figure of ``figsize``."""
    if ax is not None:
        return ax.figure, ax
    return _plt().subplots(figsize=figsize)


def _mark_divergence(ax, x, values, stopped=None):
    """Mark where a curve stops being finite (a red × at its last finite point, labelled), and the
    reason a run stopped when it was a divergence."""
    values = np.asarray(values, dtype=float)
    bad = ~np.isfinite(values)
    diverged = bool(bad.any()) or bool(stopped and "diverg" in stopped.lower())
    if not diverged:
        return False
    good = np.flatnonzero(~bad)
    if good.size:
        k = good[-1] if bad.any() else len(values) - 1
        ax.plot([x[k]], [values[k]], "x", color="C3", ms=10, mew=2, label="diverged here")
        ax.annotate("diverged", (x[k], values[k]), textcoords="offset points", xytext=(-8, 8), ha="right",
                    color="C3")
    return True


def loss_curves(history, path=None, title="Training", stopped=None, ax=None):
    """Loss (log scale) and the other metrics per epoch, training and validation.

    history: {'loss': [...], 'val_loss': [...], 'accuracy': [...], 'lr': [...], ...}. The learning
    rate gets no panel of its own: when it changes it is drawn on a second axis of the loss panel
    (dashed grey), when constant it is named in the title. A curve that turns non-finite, or a
    run whose ``stopped`` reason is a divergence, is marked where it diverged. ax: draw the loss
    panel alone into this axes.
    """
    metrics = [k for k in history if not k.startswith("val_") and k not in ("loss", "time", "lr")]
    if ax is None:
        fig, axes = _plt().subplots(1, 1 + len(metrics), figsize=(5.2 * (1 + len(metrics)), 3.8), squeeze=False)
        axes = list(axes[0])
    else:
        fig, axes, metrics = ax.figure, [ax], []
    epochs = np.arange(1, len(history["loss"]) + 1)
    for panel, key in zip(axes, ["loss"] + metrics):
        panel.plot(epochs, history[key], label=f"train {key}")
        if "val_" + key in history:
            panel.plot(epochs, history["val_" + key], label=f"validation {key}")
        finite = np.asarray(history[key], float)
        finite = finite[np.isfinite(finite)]
        if key == "loss" and finite.size and finite.min() > 0:
            panel.set_yscale("log")
        if key == "loss":
            _mark_divergence(panel, epochs, history[key], stopped)
        panel.set_xlabel("epoch")
        panel.set_ylabel(key)
        panel.grid(alpha=0.3)
        panel.legend(loc="best", fontsize=8)
    lr = np.asarray(history.get("lr", []), float)
    head = title
    if lr.size and np.allclose(lr, lr[0]):
        head = f"{title} (learning rate {lr[0]:.3g}, constant)"
    elif lr.size:
        twin = axes[0].twinx()
        twin.plot(epochs[: lr.size], lr, "--", color="0.5", lw=1)
        twin.set_ylabel("learning rate (dashed)", color="0.4")
        twin.tick_params(axis="y", colors="0.4", labelsize=8)
    axes[0].set_title(head)
    return _done(fig, path)


def _classes_of(out):
    out = np.asarray(out)
    return out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(-1) > 0).astype(int)


def decision_boundary(predict, X, y, path=None, title="Decision boundary", resolution=200, ax=None,
                      feature_names=None, class_names=None, standardized=False):
    """Predicted class over the plane (2-D inputs) with the data on top, one legend entry per class.

    predict: function (n, 2) -> (n, classes) scores or (n, 1) logits, taking inputs in the units
    of ``X`` (pass the raw data and a predict that accepts raw inputs to draw in the data's own
    units). feature_names: the two axes' names (default x₁, x₂); class_names: a name per class
    index; standardized: the inputs are standardized (the axes say so).
    """
    plt = _plt()
    X = np.asarray(X)
    y = np.asarray(y).reshape(-1)
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0) + 1e-9)
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype)
    cls = _classes_of(predict(grid))
    fig, ax = _axes(ax, (5.6, 4.8))
    k = int(max(cls.max(), y.max())) + 1
    cmap = plt.get_cmap("tab10", max(k, 2))
    ax.contourf(gx, gy, cls.reshape(gx.shape), levels=np.arange(-0.5, k + 0.5), cmap=cmap, alpha=0.3)
    size = 36 if len(X) <= 500 else 20 if len(X) <= 3000 else 10
    for c in range(k):
        rows = y == c
        if rows.any():
            name = class_names[c] if class_names is not None and c < len(class_names) else f"class {c}"
            ax.scatter(X[rows, 0], X[rows, 1], color=cmap(c), s=size, edgecolors="k", linewidths=0.6, label=str(name))
    ax.legend(loc="best", fontsize=8, framealpha=0.8, title="data")
    names = list(feature_names) if feature_names is not None else ["$x_1$", "$x_2$"]
    suffix = " (standardized)" if standardized else ""
    ax.set_xlabel(f"{names[0]}{suffix}")
    ax.set_ylabel(f"{names[1]}{suffix}")
    ax.set_title(title)
    return _done(fig, path)


def regression_fit(predict, X, y, path=None, title="Fit", ax=None, feature_name=None, standardized=False):
    """Data and the network's prediction for a 1-D regression problem."""
    X = np.asarray(X)
    order = np.argsort(X[:, 0])
    grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 400).reshape(-1, 1).astype(X.dtype)
    fig, ax = _axes(ax, (6, 4))
    ax.scatter(X[order, 0], np.asarray(y).reshape(len(X), -1)[order, 0], s=14, alpha=0.6, edgecolors="k",
               linewidths=0.3, label="data")
    ax.plot(grid[:, 0], np.asarray(predict(grid)).reshape(len(grid), -1)[:, 0], color="C3", label="network")
    ax.set_xlabel(f"{feature_name or '$x$'}{' (standardized)' if standardized else ''}")
    ax.set_ylabel("y")
    ax.legend()
    ax.set_title(title)
    return _done(fig, path)


def layer_label(name):
    """How every figure names a layer: its weight's parameter name without '.weight' ('0', '2.fn.0')."""
    return name[: -len(".weight")] if name.endswith(".weight") else name


def gradient_norms(steps, norms, path=None, title="Per-layer gradient norm ‖∂L/∂W‖"):
    """Heatmap (layer × step, log10 colour) and curves of the per-layer gradient norms."""
    plt = _plt()
    names = list(norms)
    M = np.array([norms[n] for n in names], dtype=float)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log10(np.where(M > 0, M, np.nan))
    im = ax0.imshow(L, aspect="auto", interpolation="nearest", cmap="viridis",
                    extent=[steps[0], steps[-1], len(names) - 0.5, -0.5] if len(steps) > 1 else None)
    ax0.set_yticks(range(len(names)))
    ax0.set_yticklabels([layer_label(n) for n in names])
    ax0.set_xlabel("step")
    ax0.set_ylabel("layer (weight)")
    ax0.set_title("log10 ‖∂L/∂W‖")
    fig.colorbar(im, ax=ax0)
    for n, row in zip(names, M):
        ax1.plot(steps, row, label=f"layer {layer_label(n)}")
        _mark_divergence(ax1, steps, row)
    if np.nanmin(np.where(np.isfinite(M), M, np.nan), initial=np.inf) > 0:
        ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_title(title)
    ax1.legend(fontsize=7)
    ax1.grid(alpha=0.3)
    return _done(fig, path)
