"""seeds=: an ensemble whose member k is the estimator with random_state=seeds_[k], predictions averaged."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_classifier_seeds_average_two_single_seed_estimators_exactly():
    X, y = make_classification(n_samples=80, n_features=4, n_classes=3, n_informative=3, n_redundant=0,
                               random_state=0)
    settings = dict(hidden_layer_sizes=(6,), max_iter=15, random_state=99)
    ensemble = MLPClassifier(seeds=[3, 8], **settings).fit(X, y)
    a = MLPClassifier(**{**settings, "random_state": 3}).fit(X, y)
    b = MLPClassifier(**{**settings, "random_state": 8}).fit(X, y)
    # the mean of two arrays is (p + q) / 2 in NumPy's pairwise sum: bit for bit, no tolerance
    assert np.array_equal(ensemble.predict_proba(X), (a.predict_proba(X) + b.predict_proba(X)) / 2)
    assert np.array_equal(ensemble.predict(X), ensemble.classes_[np.argmax(ensemble.predict_proba(X), axis=1)])
    assert ensemble.loss_curves_ == [a.loss_curve_, b.loss_curve_]
    assert ensemble.loss_curve_ == [(p + q) / 2 for p, q in zip(a.loss_curve_, b.loss_curve_, strict=True)]
    assert ensemble.seeds_ == [3, 8] and len(ensemble.estimators_) == 2
    assert not np.array_equal(a.predict_proba(X), b.predict_proba(X))  # (the seeds do differ)


def test_regressor_seeds_average_values_and_ragged_curves():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    y = y / y.std()
    # tol high: each member stops when its own loss stops improving, possibly at different epochs
    settings = dict(hidden_layer_sizes=(5,), learning_rate_init=0.03, max_iter=60, tol=1e-2, n_iter_no_change=2,
                    random_state=0)
    ensemble = MLPRegressor(seeds=[1, 2, 3], **settings).fit(X, y)
    singles = [MLPRegressor(**{**settings, "random_state": s}).fit(X, y) for s in (1, 2, 3)]
    np.testing.assert_array_equal(ensemble.predict(X), np.mean([m.predict(X) for m in singles], axis=0))
    curves = [m.loss_curve_ for m in singles]
    assert len({len(c) for c in curves}) > 1  # (the members did stop at different epochs: 15, 13, 14)
    assert ensemble.loss_curves_ == curves and ensemble.n_iter_ == max(m.n_iter_ for m in singles)
    last = max(len(c) for c in curves) - 1  # the mean at the last epoch is over the members still training
    assert ensemble.loss_curve_[last] == pytest.approx(np.mean([c[last] for c in curves if len(c) > last]), abs=0)


def test_seeds_count_draws_from_random_state_deterministically():
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, seeds=3, random_state=7)
    first = est.fit(X, y).predict_proba(X)
    expected = [int(s) for s in np.random.RandomState(7).randint(np.iinfo(np.int32).max, size=3)]
    assert est.seeds_ == expected
    assert np.array_equal(clone(est).fit(X, y).predict_proba(X), first)  # same random_state: bit for bit
    other = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, seeds=3, random_state=8).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), first)


def test_seeds_partial_fit_warm_start_and_bad_values():
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(4,), seeds=[0, 1], random_state=0)
    est.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert [len(c) for c in est.loss_curves_] == [2, 2] and est.n_iter_ == 2
    warm = MLPRegressor(hidden_layer_sizes=(4,), seeds=[0, 1], max_iter=3, warm_start=True).fit(X, y.astype(float))
    warm.fit(X, y.astype(float))
    assert [len(c) for c in warm.loss_curves_] == [6, 6]
    for bad in ([], [1, -2], [1.5]):
        with pytest.raises(ValueError, match="seeds: expected None, a positive int or a non-empty list"):
            MLPRegressor(seeds=bad).fit(X, y)
    with pytest.raises(ValueError, match="seeds"):
        MLPRegressor(seeds=0).fit(X, y)  # (scikit-learn's parameter validation)
