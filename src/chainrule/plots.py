"""Figures as PNG files (matplotlib, an optional extra: pip install 'chainrule[plot]').

Every function takes a ``path`` and writes one PNG there, using the non-interactive Agg
backend so it works on machines without a screen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import OptionalDependencyError


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        raise OptionalDependencyError("plots need matplotlib: pip install 'chainrule[plot]'") from None
    return plt


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def loss_curves(history, path, title="Training"):
    """Loss (log scale) and the other metrics per epoch, training and validation."""
    plt = _plt()
    metrics = [k for k in history if not k.startswith("val_") and k not in ("loss", "time")]
    fig, axes = plt.subplots(1, 1 + len(metrics), figsize=(5 * (1 + len(metrics)), 3.6))
    axes = np.atleast_1d(axes)
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, key in zip(axes, ["loss"] + metrics):
        ax.plot(epochs, history[key], label=f"train {key}")
        if "val_" + key in history:
            ax.plot(epochs, history["val_" + key], label=f"validation {key}")
        if key == "loss" and min(history[key]) > 0:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_title(title)
    return _save(fig, path)


def decision_boundary(predict, X, y, path, title="Decision boundary", resolution=200):
    """Predicted class over the plane (2-D inputs) with the data on top.

    predict: function (n, 2) -> (n, classes) scores or (n, 1) logits.
    """
    plt = _plt()
    X = np.asarray(X)
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0) + 1e-9)
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype)
    out = np.asarray(predict(grid))
    cls = out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(-1) > 0).astype(int)
    fig, ax = plt.subplots(figsize=(5.2, 4.8))
    k = int(max(cls.max(), np.max(y))) + 1
    cmap = plt.get_cmap("tab10", max(k, 2))
    ax.contourf(gx, gy, cls.reshape(gx.shape), levels=np.arange(-0.5, k + 0.5), cmap=cmap, alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y).reshape(-1), cmap=cmap, vmin=-0.5, vmax=k - 0.5,
               s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return _save(fig, path)


def regression_fit(predict, X, y, path, title="Fit"):
    """Data and the network's prediction for a 1-D regression problem."""
    plt = _plt()
    X = np.asarray(X)
    order = np.argsort(X[:, 0])
    grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 400).reshape(-1, 1).astype(X.dtype)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(X[order, 0], np.asarray(y).reshape(len(X), -1)[order, 0], s=8, alpha=0.5, label="data")
    ax.plot(grid[:, 0], np.asarray(predict(grid)).reshape(len(grid), -1)[:, 0], color="C3", label="network")
    ax.legend()
    ax.set_title(title)
    return _save(fig, path)


def gradient_norms(steps, norms, path, title="Per-layer gradient norm ‖∂L/∂W‖"):
    """Heatmap (layer × step, log10 colour) and curves of the per-layer gradient norms."""
    plt = _plt()
    names = list(norms)
    M = np.array([norms[n] for n in names], dtype=float)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
    im = ax0.imshow(np.log10(np.maximum(M, 1e-30)), aspect="auto", interpolation="nearest", cmap="viridis",
                    extent=[steps[0], steps[-1], len(names) - 0.5, -0.5] if steps else None)
    ax0.set_yticks(range(len(names)))
    ax0.set_yticklabels(names)
    ax0.set_xlabel("step")
    ax0.set_title("log10 ‖∂L/∂W‖")
    fig.colorbar(im, ax=ax0)
    for n, row in zip(names, M):
        ax1.plot(steps, row, label=n)
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_title(title)
    ax1.legend(fontsize=7)
    ax1.grid(alpha=0.3)
    return _save(fig, path)
