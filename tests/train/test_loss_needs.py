"""A loss declares what it needs (task, targets, classes, whether it can be staged); the Trainer,
the Ensemble and evaluation read those declarations instead of the loss's name. Every built-in loss
is checked here against what the Trainer does with it."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import DataError, StagingError
from chainrule.nn import losses
from chainrule.train import Trainer
from chainrule.train.evaluation import prepare

rng = np.random.default_rng(0)
X = rng.standard_normal((48, 3))
SCORE = X @ np.array([1.0, -2.0, 0.5])


def targets_for(need):
    """(d_out, y) of a well-posed problem for a loss with these needs."""
    if need.targets == "labels":
        return 3, np.digitize(SCORE, [-1.0, 1.0])  # 3 classes
    if need.targets == "binary":
        return 1, (SCORE > 0).astype(np.int64)
    if need.targets == "signs":
        return 1, np.where(SCORE > 0, 1.0, -1.0)
    return 2, np.stack([SCORE, np.tanh(SCORE)], axis=1)


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_every_built_in_loss_declares_everything(name):
    fn = losses.LOSSES[name]
    for attribute in ("task", "targets", "n_classes", "checks_width", "stageable"):
        assert hasattr(fn, attribute), (name, attribute)
    need = losses.needs(name)
    assert need.task in ("classification", "binary", "regression") and need.targets in losses.TARGETS


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_a_losss_declared_needs_work_with_the_trainer(name):
    need = losses.needs(name)
    d_out, y = targets_for(need)
    t = Trainer(nn.MLP([3, 8, d_out], activation="tanh"), loss=name, optimizer="adam", learning_rate=0.05,
                batch_size=16, seed=0, verbose=0)
    assert t.metric_names == (["accuracy"] if need.task in ("classification", "binary") else ["r2"])
    Xp, yp = prepare(X, y, t.model, name)
    expected_dtype = np.int64 if need.targets == "labels" else np.float64
    assert yp.dtype == expected_dtype and len(yp) == len(X)
    if need.targets in ("labels", "binary"):
        assert yp.shape == (len(X),) and set(np.unique(yp)) <= set(range(need.classes(d_out)))
    else:
        assert yp.shape == (len(X), np.shape(y)[1] if np.ndim(y) == 2 else 1)
    first = float(t.loss_fn(t.predict(X), yp))
    t.fit(X, y, epochs=15)
    # The declaration is what the loss computes with: it trains (a clearly lower loss after 15 epochs).
    assert np.isfinite(t.history["loss"]).all() and t.history["loss"][-1] < 0.8 * first
    # Whether it is staged follows its declaration (an MLP without dropout is pure).
    assert t.compiled == need.stageable


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_a_stageable_loss_stages_and_an_unstageable_one_does_not(name):
    need = losses.needs(name)
    d_out, y = targets_for(need)
    model = nn.MLP([3, 4, d_out])
    model.init(seed=0)
    Xp, yp = prepare(X, y, model, name)
    fn = losses.get(name)
    compiled = cr.jit(lambda p, xb, yb: fn(model.apply(p, xb), yb))
    if need.stageable:
        value = compiled(model.params, Xp, yp)
        assert len(compiled.programs) == 1 and value == fn(model.apply(model.params, Xp), yp)
    else:
        with pytest.raises(StagingError):  # it reads its targets' values in Python while being traced
            compiled(model.params, Xp, yp)


@pytest.mark.parametrize("name, y_bad, match", [
    ("cross_entropy", np.full(48, 3), "label"),
    ("binary_cross_entropy", np.full(48, 2), "label"),
    ("hinge", np.zeros(48), "needs targets -1 or \\+1"),
    ("mse", np.zeros((48, 3)), "3 target columns but the model has 2 outputs"),
])
def test_targets_that_do_not_fit_the_declaration_are_refused(name, y_bad, match):
    d_out, _ = targets_for(losses.needs(name))
    t = Trainer(nn.MLP([3, 4, d_out]), loss=name, verbose=0)
    with pytest.raises(DataError, match=match):
        t.fit(X, y_bad, epochs=1)


def test_a_custom_loss_declares_nothing_and_gets_the_defaults():
    def half_sse(out, y):
        return 0.5 * cr.numpy.sum((out - y) ** 2)

    need = losses.needs(half_sse)
    assert (need.task, need.targets, need.n_classes, need.checks_width, need.stageable) == \
        ("regression", "values", None, False, False)
    half_sse.stageable = True  # a custom loss may declare itself stageable
    assert losses.needs(half_sse).stageable
