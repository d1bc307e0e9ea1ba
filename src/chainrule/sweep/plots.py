"""A sweep's figures (matplotlib, optional): each returns its figure and writes a PNG with ``path=``.

- ``metric_vs``: the metric against one hyperparameter, every seed a dot, the mean ± sd a band;
- ``parallel_coordinates``: one line per configuration across every hyperparameter and the metric;
- ``heatmap``: the mean metric over two hyperparameters;
- ``learning_curves``: the metric per epoch of the top configurations, mean ± sd over seeds;
- ``importances``: Optuna's parameter importances (random / tpe sweeps).

The drawing helpers are chainrule.plots' (backend, saving, axes), so figures look alike.
"""

from __future__ import annotations

import json
import statistics

import numpy as np

from ..plots import _axes, _done, _plt


def _ok_configs(results):
    return [c for c in results.ranking if c["mean"] is not None]


def _positions(values):
    """x positions for values: numbers as they are, anything else (lists, names) as categories."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], None
    labels = sorted({json.dumps(v) for v in values})
    return [labels.index(json.dumps(v)) for v in values], labels


def metric_vs(results, key, path=None, ax=None):
    """The final metric of every seed (dots) and the mean ± sd per value (line and band) against ``key``."""
    fig, ax = _axes(ax, (5, 3.6))
    rows = [r for r in results.rows if r["status"] == "ok" and r["final"] is not None]
    xs, labels = _positions([r["params"][key] for r in rows])
    ax.plot(xs, [r["final"] for r in rows], ".", alpha=0.4, color="C0", label="a seed")
    groups = {}
    for x, r in zip(xs, rows):
        groups.setdefault(x, []).append(r["final"])
    centers = sorted(groups)
    means = np.array([statistics.fmean(groups[x]) for x in centers])
    sds = np.array([statistics.stdev(groups[x]) if len(groups[x]) > 1 else 0.0 for x in centers])
    ax.plot(centers, means, "-", color="C1", label="mean over seeds (± sd)")
    ax.fill_between(centers, means - sds, means + sds, color="C1", alpha=0.25)
    dim = results.spec.space[key]
    if labels is None and dim.log:
        ax.set_xscale("log")
    if labels is not None:
        ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel(key)
    ax.set_ylabel(results.spec.metric)
    ax.legend(fontsize=8)
    return _done(fig, path)


def parallel_coordinates(results, path=None):
    """Every configuration as a line over its hyperparameters (each axis scaled to [0, 1]) and the
    metric's mean, coloured by the metric."""
    plt = _plt()
    configs = _ok_configs(results)
    keys = list(results.spec.space)
    columns, ticks = [], []
    for key in keys:
        xs, labels = _positions([c["params"][key] for c in configs])
        xs = np.asarray(xs, float)
        if labels is None and results.spec.space[key].log:
            xs = np.log10(xs)
        columns.append(xs)
        ticks.append(labels)
    columns.append(np.array([c["mean"] for c in configs]))
    data = np.array(columns).T  # (configurations, axes)
    low, high = data.min(axis=0), data.max(axis=0)
    scaled = (data - low) / np.where(high > low, high - low, 1.0)
    fig, ax = plt.subplots(figsize=(1.8 * (len(keys) + 1) + 1, 3.8))
    colors = plt.get_cmap("viridis_r" if results.spec.direction == "minimize" else "viridis")(scaled[:, -1])
    for row, color in zip(scaled, colors):
        ax.plot(range(len(keys) + 1), row, color=color, alpha=0.7)
    names = [f"log10 {k}" if ticks[i] is None and results.spec.space[k].log else k for i, k in enumerate(keys)]
    ax.set_xticks(range(len(keys) + 1), [*names, results.spec.metric], rotation=15, fontsize=8)
    ax.set_yticks([0, 1], ["low", "high"])
    ax.set_title("configurations (colour: the metric, mean over seeds)")
    return _done(fig, path)


def heatmap(results, key_x, key_y, path=None):
    """The metric's mean over seeds for each pair of values of two hyperparameters (blank: not run)."""
    fig, ax = _axes(None, (5, 4))
    configs = _ok_configs(results)
    xs = sorted({json.dumps(c["params"][key_x]) for c in configs}, key=_order)
    ys = sorted({json.dumps(c["params"][key_y]) for c in configs}, key=_order)
    grid = np.full((len(ys), len(xs)), np.nan)
    cells = {}
    for c in configs:
        cells.setdefault((json.dumps(c["params"][key_y]), json.dumps(c["params"][key_x])), []).append(c["mean"])
    for (y, x), values in cells.items():
        grid[ys.index(y), xs.index(x)] = statistics.fmean(values)
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    fig.colorbar(image, ax=ax, label=results.spec.metric)
    ax.set_xticks(range(len(xs)), [_short(x) for x in xs], rotation=30, fontsize=8)
    ax.set_yticks(range(len(ys)), [_short(y) for y in ys], fontsize=8)
    ax.set_xlabel(key_x)
    ax.set_ylabel(key_y)
    return _done(fig, path)


def _order(text):
    value = json.loads(text)
    return (0, value, "") if isinstance(value, int | float) else (1, 0, text)


def _short(text):
    value = json.loads(text)
    return f"{value:.3g}" if isinstance(value, float) else text


def learning_curves(results, top=5, path=None, ax=None):
    """The metric per epoch for the ``top`` configurations: mean over seeds, ± sd as a band."""
    fig, ax = _axes(ax, (5.5, 3.8))
    metric = results.spec.metric
    curves = results.curves(metric)
    for i, c in enumerate(_ok_configs(results)[:top]):
        seeds = [curves[r["key"]] for r in results.rows if r["config_hash"] == c["config_hash"] and
                 r["status"] == "ok" and curves.get(r["key"])]
        n = min(len(s) for s in seeds)
        values = np.array([s[:n] for s in seeds], float)
        mean, sd = values.mean(axis=0), values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(n)
        epochs = np.arange(1, n + 1)
        label = ", ".join(f"{k.rsplit('.', 1)[-1]}={_short(json.dumps(v))}" for k, v in c["params"].items())
        ax.plot(epochs, mean, color=f"C{i}", label=f"#{i + 1} {label}")
        ax.fill_between(epochs, mean - sd, mean + sd, color=f"C{i}", alpha=0.2)
    if metric.endswith("loss"):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    return _done(fig, path)


def importances(study, path=None, ax=None):
    """Optuna's importance of each hyperparameter (fANOVA) for a study with finished trials."""
    import optuna

    values = optuna.importance.get_param_importances(study)
    fig, ax = _axes(ax, (5, 0.5 + 0.45 * len(values)))
    names = list(values)[::-1]
    ax.barh(names, [values[n] for n in names], color="C0")
    ax.set_xlabel("importance (Optuna, fANOVA)")
    return _done(fig, path)


def write_all(results, top=5):
    """Every figure that fits the sweep, as PNGs in <folder>/plots; returns their paths."""
    out = results.folder / "plots"
    keys = list(results.spec.space)
    if not _ok_configs(results):
        return []
    paths = [out / f"metric_vs_{k}.png" for k in keys]
    for key, path in zip(keys, paths):
        metric_vs(results, key, path=path)
    if len(keys) > 1:
        parallel_coordinates(results, path=out / "parallel_coordinates.png")
        paths.append(out / "parallel_coordinates.png")
        heatmap(results, keys[0], keys[1], path=out / f"heatmap_{keys[0]}_{keys[1]}.png")
        paths.append(out / f"heatmap_{keys[0]}_{keys[1]}.png")
    learning_curves(results, top=top, path=out / "learning_curves.png")
    paths.append(out / "learning_curves.png")
    study = results.study()
    if study is not None and len([t for t in study.trials if t.state.name == "COMPLETE"]) > 1:
        importances(study, path=out / "importances.png")
        paths.append(out / "importances.png")
    return paths
