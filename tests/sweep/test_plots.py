"""The sweep's figures: each drawn from the stored results (what the axes hold is checked)."""

import numpy as np
import pytest

from chainrule.sweep import run

from .conftest import tiny

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def results(client, tmp_path_factory):
    spec = {"base": tiny(epochs=4), "seeds": 2, "strategy": "random", "trials": 5, "seed": 3, "metric": "loss",
            "space": {"optimizer.learning_rate": {"low": 1e-3, "high": 0.1, "log": True},
                      "model.activation": ["relu", "tanh"]}}
    return run(spec, out=tmp_path_factory.mktemp("p") / "s", client=client, verbose=False)


def test_metric_vs_shows_every_seed_and_the_mean(results):
    from chainrule.sweep.plots import metric_vs

    fig = metric_vs(results, "optimizer.learning_rate")
    dots, mean = fig.axes[0].lines[:2]
    ok = [r for r in results.rows if r["status"] == "ok"]
    assert sorted(dots.get_ydata()) == sorted(r["final"] for r in ok)
    by_lr = {}
    for r in ok:
        by_lr.setdefault(r["optimizer.learning_rate"], []).append(r["final"])
    np.testing.assert_allclose(mean.get_ydata(), [np.mean(by_lr[x]) for x in sorted(by_lr)], rtol=1e-12)


def test_learning_curves_are_the_stored_means(results):
    from chainrule.sweep.plots import learning_curves

    fig = learning_curves(results, top=1)
    best = results.ranking[0]
    curves = results.curves("loss")
    seeds = [curves[r["key"]] for r in results.rows if r["config_hash"] == best["config_hash"]]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), np.mean(seeds, axis=0), rtol=1e-12)


def test_write_all_writes_every_figure(results):
    from chainrule.sweep.plots import write_all

    paths = write_all(results)
    names = {p.name for p in paths}
    assert {"parallel_coordinates.png", "learning_curves.png", "importances.png"} <= names
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
