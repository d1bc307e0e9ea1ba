"""est.to_onnx(path): onnxruntime gives the estimator's logits, probabilities, labels and values.

Tolerances as tests/export/test_onnx_parity.py: float32 rtol 1e-5, atol 1e-6 (onnxruntime's Gemm
sums in another order and its exp/tanh are other approximations: a few float32 ulps); float64
rtol = atol = 1e-12 (rounding is ~1e-16; a float32 constant somewhere would show at ~1e-8).
Labels are compared exactly: they are the argmax of probabilities that agree to those tolerances,
and the random inputs here leave no two classes within 1e-5 of each other (asserted).
"""

import numpy as np
import pytest

pytest.importorskip("sklearn")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from sklearn.datasets import make_classification, make_regression  # noqa: E402

from chainrule.errors import ConfigError  # noqa: E402
from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
TOL = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-12}}


def _run(path, X, dtype):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": X.astype(dtype)}), strict=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_classes,labels", [(2, "strings"), (3, "ints"), (4, "floats")])
def test_classifier_onnx_matches_predict_proba_and_predict(tmp_path, dtype, n_classes, labels):
    X, y = make_classification(n_samples=120, n_features=5, n_classes=n_classes, n_informative=4, n_redundant=0,
                               random_state=0)
    y = {"strings": np.array(["no", "yes", "maybe", "never"])[y], "ints": y * 7 - 3, "floats": y - 2.0}[labels]
    est = MLPClassifier(hidden_layer_sizes=(8, 6), activation=["tanh", "relu"], dtype=dtype, max_iter=20,
                        random_state=0).fit(X, y)
    path = est.to_onnx(tmp_path / "c.onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    rng = np.random.default_rng(1)
    for batch in (1, 7, 1000):
        Xb = rng.normal(size=(batch, 5)) * 2
        out = _run(path, Xb, dtype)
        proba = est.predict_proba(Xb)
        np.testing.assert_allclose(out["logits"], est._output(Xb), **TOL[dtype])
        np.testing.assert_allclose(out["probabilities"], proba, **TOL[dtype])
        top2 = np.sort(proba, axis=1)[:, -2:]
        assert np.all(top2[:, 1] - top2[:, 0] > 1e-5)  # (no near-tie that rounding could flip)
        assert np.array_equal(out["labels"], est.predict(Xb))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("targets", [1, 2])
def test_regressor_onnx_matches_predict(tmp_path, dtype, targets):
    X, y = make_regression(n_samples=80, n_features=5, n_targets=targets, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(8,), activation="elu", batchnorm=True, dtype=dtype, max_iter=10,
                       random_state=0).fit(X, y / y.std())
    path = est.to_onnx(tmp_path / "r.onnx")
    rng = np.random.default_rng(2)
    for batch in (1, 7, 1000):
        Xb = rng.normal(size=(batch, 5))
        out = _run(path, Xb, dtype)["output"]
        assert out.shape == est.predict(Xb).shape
        np.testing.assert_allclose(out, est.predict(Xb), **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_poisson_regressor_onnx_exponentiates(tmp_path, dtype):
    X, y = make_regression(n_samples=80, n_features=5, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(8,), loss="poisson", dtype=dtype, max_iter=10,
                       random_state=0).fit(X, np.abs(y) / y.std())
    Xb = np.random.default_rng(3).normal(size=(7, 5))
    out = _run(est.to_onnx(tmp_path / "p.onnx"), Xb, dtype)["output"]
    np.testing.assert_allclose(out, est.predict(Xb), **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_seed_ensembles_export_as_one_averaging_graph(tmp_path, dtype):
    X, y = make_classification(n_samples=80, n_features=4, n_classes=3, n_informative=3, n_redundant=0,
                               random_state=0)
    ensemble = MLPClassifier(hidden_layer_sizes=(5,), seeds=[1, 2, 3], dtype=dtype, max_iter=10).fit(X, y)
    Xb = np.random.default_rng(4).normal(size=(50, 4))
    out = _run(ensemble.to_onnx(tmp_path / "e.onnx"), Xb, dtype)
    assert "logits" not in out  # (the ensemble averages probabilities, not logits)
    np.testing.assert_allclose(out["probabilities"], ensemble.predict_proba(Xb), **TOL[dtype])
    assert np.array_equal(out["labels"], ensemble.predict(Xb))
    Xr, yr = make_regression(n_samples=60, n_features=4, random_state=0)
    regressor = MLPRegressor(hidden_layer_sizes=(5,), loss="poisson", seeds=2, dtype=dtype, max_iter=10,
                             random_state=0).fit(Xr, np.abs(yr) / yr.std())
    values = _run(regressor.to_onnx(tmp_path / "r.onnx"), Xb, dtype)["output"]
    np.testing.assert_allclose(values, regressor.predict(Xb), **TOL[dtype])


def test_unfitted_and_bad_labels_are_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    with pytest.raises(NotFittedError):
        MLPClassifier().to_onnx(tmp_path / "u.onnx")
    booleans = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y.astype(bool))
    with pytest.raises(ConfigError, match="classes_ must be integers, floats or strings.*bool"):
        booleans.to_onnx(tmp_path / "b.onnx")
