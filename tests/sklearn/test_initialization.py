"""The estimators start from scikit-learn's own initial weights: the same draws from the same generator."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_classification  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# One SGD epoch with learning rate 1e-300 and no momentum moves no weight: |η g| is ~1e-300, far
# below half an ulp of any weight drawn here (≥ ~1e-6 in magnitude), so coefs_ after fit are the
# initial draws exactly, in both libraries. Equality is then bit for bit, not a tolerance.
FROZEN = dict(solver="sgd", momentum=0.0, learning_rate_init=1e-300, max_iter=1, alpha=0.0)


@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_initial_weights_are_sklearns_draws(activation, n_classes):
    X, y = make_classification(n_samples=50, n_features=4, n_classes=n_classes, n_informative=3, n_redundant=0,
                               random_state=0)
    settings = dict(hidden_layer_sizes=(7, 5), activation=activation, random_state=3, **FROZEN)
    ours, theirs = MLPClassifier(**settings).fit(X, y), SkMLPClassifier(**settings).fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True):
        assert np.array_equal(a, b)


def test_logistic_bound_is_sqrt_2_over_fans_and_biases_are_drawn():
    # independent of scikit-learn's code: the formula. Each of the 400 × 300 draws of U(±b) lands
    # beyond b(1 − 1/500) with probability 1/500, so none doing so has probability (1 − 1/500)^120000 ≈ e^−240;
    # a bound √3 too large or small (the He or the logistic factor by mistake) fails one side
    X = np.random.default_rng(0).normal(size=(20, 400))
    y = X[:, :1] @ np.ones((1, 300))
    for activation, factor in (("logistic", 2.0), ("relu", 6.0)):
        est = MLPRegressor(hidden_layer_sizes=(300,), activation=activation, random_state=0, **FROZEN).fit(X, y)
        bound = np.sqrt(factor / (400 + 300))
        W, b = est.coefs_[0], est.intercepts_[0]
        assert np.abs(W).max() <= bound and np.abs(W).max() > bound * (1 - 1 / 500)
        assert np.abs(b).max() <= bound and np.abs(b).std() > 0  # biases drawn too, not zeros


def test_regressor_initial_weights_are_sklearns_draws():
    X = np.random.default_rng(1).normal(size=(30, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    settings = dict(hidden_layer_sizes=(6,), random_state=7, **FROZEN)
    ours, theirs = MLPRegressor(**settings).fit(X, y), SkMLPRegressor(**settings).fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True):
        assert np.array_equal(a, b)
