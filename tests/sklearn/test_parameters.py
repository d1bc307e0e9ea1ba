"""chainrule's own parameters on the estimators: class_weight, dtype, max_fun, loss, optimizer, init."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight  # noqa: E402

from chainrule.optim import RMSProp  # noqa: E402
from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# SGD with learning rate 1e-300 and no momentum leaves every weight as drawn (|η g| is far below
# half an ulp): loss_curve_[0] is then the objective at the initial weights, computed here in NumPy.
FROZEN = dict(solver="sgd", momentum=0.0, learning_rate_init=1e-300, max_iter=1, shuffle=False)


def _same_model(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True))


def _classes3():
    return make_classification(n_samples=90, n_features=4, n_classes=3, n_informative=3, n_redundant=0,
                               weights=[0.6, 0.3, 0.1], random_state=0)


def test_class_weight_balanced_is_sklearns_sample_weight():
    X, y = _classes3()
    settings = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    weighted = MLPClassifier(class_weight="balanced", **settings).fit(X, y)
    by_hand = MLPClassifier(**settings).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    plain = MLPClassifier(**settings).fit(X, y)
    assert _same_model(weighted, by_hand) and not _same_model(weighted, plain)
    # with sample weights, 'balanced' counts each class by its weight (scikit-learn's LogisticRegression)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    per_class = compute_class_weight("balanced", classes=np.arange(3), y=y, sample_weight=sw)
    weighted = MLPClassifier(class_weight="balanced", **settings).fit(X, y, sample_weight=sw)
    assert _same_model(weighted, MLPClassifier(**settings).fit(X, y, sample_weight=sw * per_class[y]))


def test_class_weight_dict_multiplies_sample_weight():
    X, y = _classes3()
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    settings = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    weighted = MLPClassifier(class_weight={0: 1.0, 1: 2.0, 2: 5.0}, **settings).fit(X, y, sample_weight=sw)
    by_hand = MLPClassifier(**settings).fit(X, y, sample_weight=sw * np.array([1.0, 2.0, 5.0])[y])
    assert _same_model(weighted, by_hand)
    with pytest.raises(ValueError, match="class_weight has labels not in the classes"):
        MLPClassifier(class_weight={7: 2.0}, **settings).fit(X, y)
    with pytest.raises(ValueError, match="not supported for partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_float32_trains_in_float32_close_to_float64():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    settings = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
    double = MLPClassifier(**settings).fit(X, y)
    single = MLPClassifier(dtype="float32", **settings).fit(X, y)
    assert single.coefs_[0].dtype == np.float32 and single._trainer.model.dtype == np.float32
    assert single.predict_proba(X).dtype == np.float32
    # the same initial draws rounded to float32 and the same batches: after 20 epochs the probabilities
    # differ by ~1e-7 (measured 1.1e-7; float32's ε is 6e-8); 1e-5 allows 100× that, while training in
    # another precision or from other weights moves them by 1e-2 or more
    np.testing.assert_allclose(single.predict_proba(X), double.predict_proba(X), rtol=0, atol=1e-5)
    assert np.array_equal(MLPClassifier(dtype=np.float32, **settings).fit(X, y).coefs_[0], single.coefs_[0])


def test_max_fun_caps_lbfgs_evaluations():
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_fun=7, max_iter=100, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"Maximum function evaluations \(7\)"):
        est.fit(X, y)
    # it stops at the end of the iteration where the count reaches 7 (a line search may pass it)
    assert est.n_iter_ < 100 and est._trainer.evaluations >= 7
    uncapped = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=est.n_iter_ + 3, random_state=0)
    assert uncapped.fit(X, y).n_iter_ == est.n_iter_ + 3


def _hidden(est, X):
    return np.maximum(X @ est.coefs_[0] + est.intercepts_[0], 0) @ est.coefs_[1] + est.intercepts_[1]


@pytest.mark.parametrize("loss", ["squared_error", "mse", "mae", "huber"])
def test_regression_losses_are_their_formulas(loss):
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    y = y / y.std()
    est = MLPRegressor(hidden_layer_sizes=(5,), loss=loss, alpha=0.0, batch_size=40, random_state=0, **FROZEN)
    r = _hidden(est.fit(X, y), X)[:, 0] - y
    a = np.abs(r)
    expected = {"squared_error": 0.5 * r**2, "mse": r**2, "mae": a,
                "huber": np.where(a <= 1.0, 0.5 * r**2, a - 0.5)}[loss].mean()
    np.testing.assert_allclose(est.loss_curve_[0], expected, rtol=1e-12)  # the same sums in another order


def test_hinge_loss_is_its_formula_and_needs_two_classes():
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(5,), loss="hinge", alpha=0.0, batch_size=40, random_state=0,
                        **FROZEN).fit(X, y)
    z = _hidden(est, X)[:, 0]
    np.testing.assert_allclose(est.loss_curve_[0], np.maximum(0, 1 - (2 * y - 1) * z).mean(), rtol=1e-12)
    X3, y3 = _classes3()
    with pytest.raises(ValueError, match="loss='hinge' needs exactly 2 classes, found 3"):
        MLPClassifier(loss="hinge").fit(X3, y3)


def test_any_chainrule_optimizer_by_name_with_its_options():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    y = y / y.std()
    est = MLPRegressor(hidden_layer_sizes=(8,), optimizer="rmsprop", learning_rate_init=0.01,
                       optimizer_options={"alpha": 0.9}, max_iter=30, random_state=0).fit(X, y)
    opt = est._trainer.optimizer
    assert isinstance(opt, RMSProp) and opt.alpha == 0.9 and opt.learning_rate == 0.01
    assert est.loss_curve_[-1] < 0.5 * est.loss_curve_[0]
    full = MLPRegressor(hidden_layer_sizes=(8,), optimizer="lbfgs", max_iter=3, random_state=0).fit(X, y)
    assert full._trainer.batch_size == 60 and not hasattr(full, "partial_fit")
    with pytest.raises(ValueError, match="optimizer_options=.* needs optimizer="):
        MLPRegressor(optimizer_options={"alpha": 0.9}).fit(X, y)
    with pytest.raises(ValueError, match="optimizer"):
        MLPRegressor(optimizer="adamax").fit(X, y)


def test_init_by_name_draws_chainrules_initializer():
    X = np.random.default_rng(0).normal(size=(20, 400))
    y = X[:, :300]
    est = MLPRegressor(hidden_layer_sizes=(300,), init="he_normal", alpha=0.0, random_state=0, **FROZEN).fit(X, y)
    # 120,000 draws of N(0, 2/400): the sample sd is within 1% of √(2/400) (its relative sd is 1/√(2n) ≈ 0.2%);
    # scikit-learn's U(±√(6/700)) has sd √(2/700), 24% lower
    np.testing.assert_allclose(est.coefs_[0].std(), np.sqrt(2 / 400), rtol=0.01)
    assert np.abs(est.intercepts_[0]).max() < 1e-290  # chainrule's zero biases (moved by η g ~ 1e-303 only)
    small = dict(hidden_layer_sizes=(4,), init="he_normal", **FROZEN)
    a, b, c = (MLPRegressor(random_state=s, **small).fit(X, y).coefs_[0] for s in (1, 2, 1))
    assert np.array_equal(a, c) and not np.array_equal(a, b)  # drawn from random_state's seed
    with pytest.raises(ValueError, match="init: unknown initializer 'he'"):
        MLPRegressor(init="he").fit(X, y)


def test_defaults_are_sklearns_values():
    assert MLPClassifier().get_params()["loss"] == "log_loss"
    assert MLPRegressor().get_params()["loss"] == "squared_error"
    params = MLPRegressor().get_params()
    assert (params["max_fun"], params["optimizer"], params["init"], params["seeds"]) == (15000, None, None, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLPRegressor(dtype="float32", max_iter=5, tol=1e9, n_iter_no_change=1).fit(np.ones((4, 2)), np.ones(4))


@pytest.mark.parametrize("kind", ["squared_error", "poisson", "binary", "multiclass"])
def test_first_loss_is_sklearns_own_from_the_same_start(kind):
    # From scikit-learn's own initial weights (the same draws, test_initialization.py) and one frozen
    # full batch, loss_curve_[0] is both libraries' objective at the same weights, penalty included:
    # the same sums in another order, so equal to ~1e-15 relative; rtol 1e-12 leaves room for that only.
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier
    from sklearn.neural_network import MLPRegressor as SkMLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    if kind in ("binary", "multiclass"):
        y = rng.integers(0, 2 if kind == "binary" else 4, 50)
        ours, theirs = MLPClassifier, SkMLPClassifier
        extra = {}
    else:
        y = rng.poisson(2.0, 50).astype(float) if kind == "poisson" else X @ np.array([1.0, -1.0, 0.5, 2.0])
        ours, theirs = MLPRegressor, SkMLPRegressor
        extra = {"loss": kind}
    settings = dict(hidden_layer_sizes=(6, 5), activation="tanh", alpha=0.3, batch_size=50, random_state=4,
                    **FROZEN, **extra)
    a, b = ours(**settings).fit(X, y), theirs(**settings).fit(X, y)
    assert a.out_activation_ == b.out_activation_
    np.testing.assert_allclose(a.loss_curve_[0], b.loss_curve_[0], rtol=1e-12)
    if kind == "poisson":
        np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-12)  # exp of the same outputs
        with pytest.raises(ValueError, match="loss='poisson' needs targets y ≥ 0"):
            MLPRegressor(loss="poisson").fit(X, -y - 1)
