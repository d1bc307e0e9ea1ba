"""Evaluation is its own function: ``evaluate(model, X, y, loss, metrics)`` needs no optimizer and
gives exactly what ``Trainer.evaluate`` gives (the Trainer calls the same code)."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.errors import DataError
from chainrule.train import Trainer, evaluate
from chainrule.train.ensemble import Ensemble

X, LABELS = make_moons(n=60, noise=0.2, seed=0)


@pytest.mark.parametrize("loss, d_out, y, metrics", [
    ("cross_entropy", 2, LABELS, None),
    ("binary_cross_entropy", 1, LABELS, ["accuracy", "mse"]),
    ("hinge", 1, 2.0 * LABELS - 1, None),
    ("mse", 2, np.stack([X[:, 0] * X[:, 1], X[:, 0] - X[:, 1]], axis=1), ["r2", "mse"]),
])
def test_evaluate_equals_trainer_evaluate(loss, d_out, y, metrics):
    t = Trainer(nn.MLP([2, 8, d_out], activation="tanh"), loss=loss, optimizer="adam", learning_rate=0.02,
                batch_size=16, seed=3, verbose=0, metrics=metrics)
    t.fit(X, y, epochs=2)
    expected = t.evaluate(X, y, prefix="val_")
    got = evaluate(t.model, X, y, loss=loss, metrics=metrics, prefix="val_")
    assert got == expected  # bit for bit: the same function on the same arrays
    assert set(got) == {"val_loss", *("val_" + m for m in (metrics or t.metric_names))}


def test_evaluate_needs_no_optimizer_or_trainer():
    model = nn.MLP([2, 5, 2])
    model.init(seed=1)
    logs = evaluate(model, X, LABELS)  # cross-entropy and accuracy by default
    out = model.apply(model.params, X)
    z = out - out.max(axis=1, keepdims=True)
    by_hand = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(X)), LABELS]))
    assert logs["loss"] == pytest.approx(by_hand, rel=1e-12)  # float64 log-sum-exp, ~60 terms: rounding only
    assert logs["accuracy"] == float(np.mean(out.argmax(axis=1) == LABELS))
    # other parameters than the model's own
    other = {k: np.zeros_like(v) for k, v in model.params.items()}
    assert evaluate(model, X, LABELS, params=other)["loss"] == pytest.approx(np.log(2), rel=1e-12)


def test_evaluate_checks_the_data_as_the_loss_declares():
    model = nn.MLP([2, 4, 2])
    model.init(seed=0)
    with pytest.raises(DataError, match="evaluation data: .*label"):
        evaluate(model, X, LABELS + 2)  # classes 2, 3 for a 2-output network
    with pytest.raises(DataError, match="evaluation data: y has 1 target columns but the model has 2 outputs"):
        evaluate(model, X, X[:, 0], loss="mse")


def test_the_ensemble_evaluates_each_model_as_evaluate_does():
    ens = Ensemble(lambda: nn.MLP([2, 6, 2]), [0, 4], learning_rate=0.1, batch_size=16, verbose=0)
    ens.fit(X, LABELS, epochs=2)
    logs = ens.evaluate(X, LABELS)
    for k in range(2):
        model = nn.MLP([2, 6, 2])
        model.init(seed=0)
        one = evaluate(model, X, LABELS, params=ens.model_params(k))
        assert logs["loss"][k] == one["loss"] and logs["accuracy"][k] == one["accuracy"]
