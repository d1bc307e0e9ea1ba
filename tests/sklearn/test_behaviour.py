"""chainrule.sklearn in scikit-learn's tools, its objective against a NumPy truth, and its randomness."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _forward(est, X):
    a = X
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        a = a @ W + b
        if i < len(est.coefs_) - 1:
            a = np.tanh(a)
    return a


@pytest.mark.parametrize("weighted", [False, True])
def test_regressor_loss_is_sklearns_objective(weighted):
    # One full-batch step with a negligible learning rate: loss_curve_[0] is the objective at the
    # final weights to ~1e-12 relative, computed here in NumPy from coefs_ (rtol 1e-9 leaves room).
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    y = y / y.std()
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y)) if weighted else None
    est = MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", momentum=0.0,
                       learning_rate_init=1e-13, batch_size=40, max_iter=1, alpha=0.7, shuffle=False,
                       random_state=0).fit(X, y, sample_weight=w)
    sw = np.ones(len(y)) if w is None else w
    residual = _forward(est, X)[:, 0] - y
    data = np.sum(sw * 0.5 * residual**2) / sw.sum()
    penalty = 0.5 * 0.7 * sum(np.sum(W**2) for W in est.coefs_) / sw.sum()
    np.testing.assert_allclose(est.loss_curve_[0], data + penalty, rtol=1e-9)


def test_coefs_have_sklearns_layout():
    X, y = make_classification(n_samples=60, n_features=4, n_classes=3, n_informative=3,
                               n_redundant=0, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=5, random_state=0).fit(X, y)
    assert [W.shape for W in est.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in est.intercepts_] == [(7,), (5,), (3,)]
    assert est.out_activation_ == "softmax" and est.n_layers_ == 4 and est.n_outputs_ == 3
    relu = _forward_relu(est, X)
    np.testing.assert_allclose(est.predict_proba(X), relu, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), relu, rtol=1e-12, atol=1e-15)


def _forward_relu(est, X):
    a = X
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        a = a @ W + b
        if i < len(est.coefs_) - 1:
            a = np.maximum(a, 0)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_binary_classifier_has_one_logistic_output():
    X, y = make_classification(n_samples=50, n_features=4, random_state=1)
    labels = np.array(["no", "yes"])[y]
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, labels)
    assert est.out_activation_ == "logistic" and est.coefs_[-1].shape == (4, 1)
    assert set(est.predict(X)) <= {"no", "yes"}
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0)


def test_same_random_state_same_model_bit_for_bit():
    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    a = MLPClassifier(hidden_layer_sizes=(6,), max_iter=10, random_state=3).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(6,), max_iter=10, random_state=3).fit(X, y)
    c = MLPClassifier(hidden_layer_sizes=(6,), max_iter=10, random_state=4).fit(X, y)
    assert all(np.array_equal(p, q) for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_,
                                                    strict=True))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_random_state_instance_is_drawn_from_and_none_uses_the_global_generator():
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    rng = np.random.RandomState(0)
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=rng)
    first, second = est.fit(X, y).coefs_[0].copy(), est.fit(X, y).coefs_[0].copy()
    assert not np.array_equal(first, second)  # the instance moved on, as in scikit-learn
    np.random.seed(5)
    a = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y).coefs_[0].copy()
    np.random.seed(5)
    b = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y).coefs_[0].copy()
    assert np.array_equal(a, b)


def test_no_hidden_validation_split_and_stopping_rule():
    X, y = make_classification(n_samples=90, n_features=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=7, random_state=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert est.n_iter_ == 7 and est.t_ == 7 * 90 and len(est.loss_curve_) == 7
    assert est.validation_scores_ is None
    # tol so large that only the first epoch counts as an improvement (on best_loss_ = inf): both
    # stop after 1 + n_iter_no_change + 1 epochs, without a ConvergenceWarning
    settings = dict(hidden_layer_sizes=(5,), max_iter=50, tol=1e3, n_iter_no_change=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        quiet = MLPClassifier(**settings).fit(X, y)
        theirs = SkMLPClassifier(**settings).fit(X, y)
    assert quiet.n_iter_ == theirs.n_iter_ == 5
    assert quiet.best_loss_ == min(quiet.loss_curve_)


def test_early_stopping_holds_out_validation_fraction_and_keeps_the_best():
    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, early_stopping=True, validation_fraction=0.2,
                        random_state=0).fit(X, y)
    assert est.t_ == est.n_iter_ * 80
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_partial_fit_continues_and_checks_classes():
    X, y = make_classification(n_samples=60, n_features=4, n_classes=3, n_informative=3,
                               n_redundant=0, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y)
    est.partial_fit(X[:30], y[:30], classes=[0, 1, 2])
    est.partial_fit(X[30:], y[30:])
    assert est.n_iter_ == 2 and est.t_ == 60
    with pytest.raises(ValueError, match="not in classes_"):
        est.partial_fit(X[:3], np.array([0, 1, 7]))
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")


def test_warm_start_continues_from_the_fitted_weights():
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    y = y / y.std()
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, warm_start=True, random_state=0).fit(X, y)
    before = est.loss_curve_[-1]
    est.fit(X, y)
    assert est.n_iter_ == 10 and est.loss_curve_[5] < before


def test_not_fitted_and_bad_input_raise_sklearns_errors():
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        MLPRegressor().fit(np.array([[np.nan], [1.0]]), [0.0, 1.0])
    with pytest.raises(ValueError):
        MLPRegressor().fit(np.arange(4.0), np.arange(4.0))  # 1-D X
    with pytest.raises(ValueError, match="activation"):
        MLPRegressor(activation="swish").fit(np.ones((3, 2)), np.ones(3))


def test_chainrule_activation_names_are_accepted():
    X, y = make_regression(n_samples=30, n_features=2, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(4,), activation="gelu", solver="lbfgs", max_iter=5).fit(X, y)
    assert est.predict(X).shape == (30,)


def test_in_pipeline_gridsearch_cross_val_score_and_clone():
    X, y = make_classification(n_samples=90, n_features=4, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, learning_rate_init=0.05,
                                                       random_state=0))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.7
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1]}, cv=2).fit(X, y)
    assert search.best_params_["mlpclassifier__alpha"] in (1e-4, 1e-1)
    twin = clone(pipe).fit(X, y)
    again = clone(pipe).fit(X, y)
    assert np.array_equal(twin.predict_proba(X), again.predict_proba(X))


def test_multi_output_regression():
    X, y = make_regression(n_samples=40, n_features=3, n_targets=2, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y / y.std())
    assert est.predict(X).shape == (40, 2) and est.coefs_[-1].shape == (5, 2)


def test_digits_accuracy_comparable_to_sklearns():
    # Same architecture, solver, epochs, batch size and initialization scheme (Glorot-uniform);
    # the random streams differ, so a single seed's accuracies after 30 epochs (not converged)
    # agree to a few points, not exactly: within 3 points of scikit-learn's, and far above chance.
    X, y = load_digits(return_X_y=True)
    Xa, Xb, ya, yb = train_test_split(X / 16.0, y, random_state=0)
    settings = dict(hidden_layer_sizes=(64,), max_iter=30, random_state=0)
    ours = MLPClassifier(**settings).fit(Xa, ya).score(Xb, yb)
    theirs = SkMLPClassifier(**settings).fit(Xa, ya).score(Xb, yb)
    assert ours > 0.9 and ours > theirs - 0.03, (ours, theirs)


def test_warm_start_on_data_of_another_width_is_an_error():
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="3 inputs and 1 outputs, this data needs 3 and 2"):
        est.fit(X, np.column_stack([y, y]))


def test_lbfgs_that_runs_out_of_iterations_warns():
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match="L-BFGS"):
        MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=3, random_state=0).fit(X, y)


def test_partial_fit_batches_are_min_200_n_of_each_call():
    X, y = make_regression(n_samples=250, n_features=3, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y)
    assert est._trainer.batch_size == 200
    est.partial_fit(X[:50], y[:50])
    assert est._trainer.batch_size == 50 and est.t_ == 300


def test_invscaling_learning_rate_follows_samples_seen():
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", learning_rate="invscaling", learning_rate_init=0.01,
                       power_t=0.5, max_iter=4, random_state=0).fit(X, y / y.std())
    assert est._trainer.optimizer.learning_rate == pytest.approx(0.01 / (4 * 30 + 1) ** 0.5, rel=1e-15)


def test_adaptive_learning_rate_stops_where_sklearns_does():
    # tol so large that no epoch after the first improves: the rate is divided by 5 at every
    # n_iter_no_change + 1 epochs until it is ≤ 1e-6, then training stops; scikit-learn is the truth.
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    settings = dict(hidden_layer_sizes=(3,), solver="sgd", learning_rate="adaptive", tol=1e3, n_iter_no_change=2,
                    max_iter=100, random_state=0)
    ours, theirs = MLPClassifier(**settings).fit(X, y), SkMLPClassifier(**settings).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 100
    assert ours._trainer.optimizer.learning_rate == pytest.approx(theirs._optimizer.learning_rate, rel=1e-12)


def test_partial_fit_with_early_stopping_holds_nothing_out():
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(4,), early_stopping=True, random_state=0).partial_fit(X, y)
    assert est.t_ == 30 and est.validation_scores_ is None


def test_verbose_prints_sklearns_lines(capsys):
    X, y = make_regression(n_samples=20, n_features=2, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"Iteration {i + 1}, loss = {loss:.8f}" for i, loss in enumerate(est.loss_curve_)]


def test_coefs_are_the_networks_weights():
    X, y = make_regression(n_samples=20, n_features=2, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", max_iter=2, random_state=0).fit(X, y)
    est.coefs_[0][...] = 0.5  # scikit-learn's coefs_ are the model: editing them changes predictions
    np.testing.assert_allclose(est.predict(X), _forward(est, X)[:, 0], rtol=1e-12)


def test_batchnorm_and_dropout_leave_coefs_to_the_dense_layers():
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(6, 5), activation=["relu", "tanh"], batchnorm=True, dropout=0.2,
                        alpha=0.3, max_iter=3, random_state=0).fit(X, y)
    assert [W.shape for W in est.coefs_] == [(4, 6), (6, 5), (5, 1)]
    assert [b.shape for b in est.intercepts_] == [(6,), (5,), (1,)]
    assert est._trainer.weight_keys == ["0.weight", "4.weight", "8.weight"]  # the penalty skips BatchNorm's γ
    assert np.array_equal(est.predict_proba(X), est.predict_proba(X))  # eval mode: no dropout at prediction
    with pytest.raises(ValueError, match="3 names given for 2 hidden layers"):
        MLPClassifier(hidden_layer_sizes=(6, 5), activation=["relu"] * 3).fit(X, y)
