"""Pictures a learner can read (issue 11): checked on the figure objects, not on pixels."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402

from chainrule import nn, plots  # noqa: E402
from chainrule.diagnostics import TrainingRecorder  # noqa: E402
from chainrule.diagnostics import plots as dplots  # noqa: E402
from chainrule.train import Trainer  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.3, (30, 2)) for c in ((0, 0), (2, 0), (1, 2))]) * 10 + 50
    return X, np.repeat(np.arange(3), 30)


def _nearest_centre(X):
    centres = np.array([[0, 0], [2, 0], [1, 2]]) * 10.0 + 50
    return -((X[:, None, :] - centres[None]) ** 2).sum(-1)  # (n, 3) scores, in the data's units


def test_decision_boundary_has_a_legend_of_classes_edged_points_and_returns_the_figure():
    X, y = _blobs()
    fig = plots.decision_boundary(_nearest_centre, X, y, class_names=["setosa", "versicolor", "virginica"],
                                  feature_names=["petal length", "petal width"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["setosa", "versicolor", "virginica"]
    points = ax.collections[-3:]
    assert all(p.get_sizes()[0] >= 20 and p.get_linewidths()[0] > 0 for p in points)
    assert ax.get_xlabel() == "petal length" and ax.get_ylabel() == "petal width"  # the data's own units
    assert ax.get_xlim()[0] > 30  # drawn where the raw data is, not around 0


def test_decision_boundary_says_when_the_axes_are_standardized_and_honours_ax():
    X, y = _blobs()
    fig, (left, right) = plt.subplots(1, 2)
    out = plots.decision_boundary(_nearest_centre, X, y, ax=right, standardized=True)
    assert out is fig and not left.collections and right.collections
    assert right.get_xlabel().endswith("(standardized)") and right.get_ylabel().endswith("(standardized)")
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]


def test_loss_figure_has_no_learning_rate_panel():
    history = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.8], "lr": [0.01] * 3, "time": [0.1] * 3}
    fig = plots.loss_curves(history)
    assert len(fig.axes) == 2  # loss and accuracy; before: a third panel for the constant learning rate
    assert "learning rate 0.01, constant" in fig.axes[0].get_title()
    changing = plots.loss_curves({**history, "lr": [0.01, 0.005, 0.0025]})
    twins = [a for a in changing.axes if a.get_ylabel().startswith("learning rate")]
    assert len(changing.axes) == 3 and len(twins) == 1  # a second y axis on the loss panel, not a panel
    assert twins[0].get_position().bounds == changing.axes[0].get_position().bounds


def test_a_diverged_loss_curve_is_marked():
    fig = plots.loss_curves({"loss": [1.0, 30.0, 4e4, float("inf")]})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "diverged here" in labels
    calm = plots.loss_curves({"loss": [1.0, 0.5]})
    assert "diverged here" not in [t.get_text() for t in calm.axes[0].get_legend().get_texts()]
    stopped = plots.loss_curves({"loss": [1.0, 1e30]}, stopped="diverged: the loss grew 1e30-fold")
    assert "diverged here" in [t.get_text() for t in stopped.axes[0].get_legend().get_texts()]


def test_loss_curves_honours_ax_and_writes_a_png(tmp_path):
    fig, ax = plt.subplots()
    assert plots.loss_curves({"loss": [1.0, 0.5]}, ax=ax) is fig and ax.lines
    out = plots.loss_curves({"loss": [1.0, 0.5]}, tmp_path / "loss.png")
    assert hasattr(out, "savefig") and (tmp_path / "loss.png").stat().st_size > 1000


def _recorded():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 2)), rng.integers(0, 2, 64)
    rec = TrainingRecorder(every=1, probe=(X, y), probe_every=2)
    Trainer(nn.MLP([2, 8, 8, 2], activation="tanh"), batch_size=16, callbacks=[rec], verbose=0).fit(X, y, epochs=2)
    return rec


def test_layers_are_named_the_same_way_in_every_panel():
    rec = _recorded()
    expected = ["0", "2", "4"]
    dyn = dplots.dynamics(rec)
    heat = [a for a in dyn.axes if a.get_ylabel() == "layer (weight)"]
    assert len(heat) == 2 and all([t.get_text() for t in a.get_yticklabels()] == expected for a in heat)
    curves = [a for a in dyn.axes if a.get_legend() is not None]
    assert curves and all([t.get_text() for t in a.get_legend().get_texts()] == [f"layer {n}" for n in expected]
                          for a in curves)
    grads = plots.gradient_norms(rec.steps, rec.norms)
    assert [t.get_text() for t in grads.axes[0].get_yticklabels()] == expected
    assert [t.get_text() for t in grads.axes[1].get_legend().get_texts()] == [f"layer {n}" for n in expected]


def test_probe_heatmaps_span_the_probe_steps_and_honour_ax():
    rec = _recorded()  # 8 steps, a probe at every 2nd record
    fig, ax = plt.subplots()
    assert dplots.heatmap(rec, metric="act_std", ax=ax) is fig
    image = ax.images[0]
    assert image.get_array().shape == (3, 4) and image.get_extent()[:2] == [0, 6]


def test_without_matplotlib_a_run_finishes_with_one_note(tmp_path):
    """In a fresh interpreter where importing matplotlib fails (an import hook), as on a machine
    without the extra: the CLI trains, saves the model, writes no figure and says how to get them."""
    script = textwrap.dedent(f"""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "matplotlib" or name.startswith("matplotlib."):
                    raise ImportError("blocked for the test")

        sys.meta_path.insert(0, Block())
        from chainrule.cli import main
        open({str(tmp_path / 'c.toml')!r}, "w").write('[data]\\nname = "moons"\\n[training]\\nepochs = 1\\n')
        sys.exit(main(["train", {str(tmp_path / 'c.toml')!r}, "--out", {str(tmp_path / 'run')!r}, "--quiet"]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "matplotlib" in line]
    assert len(notes) == 1 and "pip install 'chainrule[plot]'" in notes[0], proc.stderr
    assert (tmp_path / "run" / "model").exists() and not list((tmp_path / "run").glob("*.png"))
