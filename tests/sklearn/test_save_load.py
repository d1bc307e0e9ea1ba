"""save/load of the estimators through chainrule's own format (JSON + safetensors, checksummed, no pickle)."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("safetensors")

from sklearn.datasets import make_classification, make_regression  # noqa: E402

from chainrule.errors import ConfigError, WeightsFileError  # noqa: E402
from chainrule.sklearn import MLPClassifier, MLPRegressor, load  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _xy(n_classes=3):
    X, y = make_classification(n_samples=60, n_features=4, n_classes=n_classes, n_informative=3, n_redundant=0,
                               random_state=0)
    return X, y


@pytest.mark.parametrize("labels", ["ints", "strings", "floats"])
def test_classifier_round_trip_predicts_identically(tmp_path, labels):
    X, y = _xy()
    y = {"ints": y * 10, "strings": np.array(["cat", "dog", "eel"])[y], "floats": y + 1.0}[labels]
    est = MLPClassifier(hidden_layer_sizes=(5, 4), class_weight="balanced", max_iter=5, random_state=0).fit(X, y)
    est.save(tmp_path / "m")
    back = MLPClassifier.load(tmp_path / "m")
    assert np.array_equal(back.predict_proba(X), est.predict_proba(X))
    assert np.array_equal(back.predict(X), est.predict(X)) and back.predict(X).dtype.kind == est.predict(X).dtype.kind
    assert back.get_params() == est.get_params()
    assert back.loss_curve_ == est.loss_curve_ and back.n_iter_ == est.n_iter_ and back.t_ == est.t_
    assert all(np.array_equal(a, b) for a, b in zip(back.coefs_, est.coefs_, strict=True))
    files = sorted(p.name for p in (tmp_path / "m").rglob("*") if p.is_file())
    assert files == ["checksums.json", "checksums.json", "estimator.json", "model.json", "model.safetensors"]


def test_regressor_ensemble_float32_round_trip(tmp_path):
    X, y = make_regression(n_samples=40, n_features=3, n_targets=2, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(5,), dtype="float32", seeds=[1, 2], max_iter=4,
                       optimizer_options={"betas": (0.8, 0.9)}, optimizer="adam").fit(X, y / y.std())
    back = load(est.save(tmp_path / "r"))
    assert isinstance(back, MLPRegressor) and back.get_params() == est.get_params()
    assert np.array_equal(back.predict(X), est.predict(X)) and back.predict(X).shape == (40, 2)
    assert back.loss_curves_ == est.loss_curves_ and back.seeds_ == [1, 2]
    assert back.estimators_[1].coefs_[0].dtype == np.float32


def test_feature_names_and_partial_fit_after_load(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = _xy(2)
    X = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X, y)
    back = MLPClassifier.load(est.save(tmp_path / "c"))
    assert back.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    assert np.array_equal(back.predict_proba(X), est.predict_proba(X))
    with pytest.raises(ValueError, match="feature names"):
        back.predict(X[["b", "a", "c", "d"]])  # scikit-learn's own check, on the loaded names
    back.partial_fit(X, y)  # a new optimizer, the loaded weights
    assert back.n_iter_ == est.n_iter_ + 1


def test_damaged_or_foreign_folders_are_one_line_errors(tmp_path):
    X, y = _xy()
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    est.save(tmp_path / "m")
    weights = tmp_path / "m" / "networks" / "0" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(WeightsFileError) as e:
        MLPClassifier.load(tmp_path / "m")
    assert "\n" not in str(e.value) and "model.safetensors" in str(e.value)
    est.save(tmp_path / "e")
    meta = tmp_path / "e" / "estimator.json"
    meta.write_text(meta.read_text().replace('"n_iter_": 2', '"n_iter_": 3'))
    with pytest.raises(WeightsFileError, match="estimator.json"):
        load(tmp_path / "e")
    with pytest.raises(ConfigError, match="holds a MLPClassifier, not a MLPRegressor"):
        MLPRegressor.load(est.save(tmp_path / "f"))
    with pytest.raises(ConfigError, match="no saved estimator"):
        load(tmp_path / "nothing")


def test_unsavable_labels_and_unfitted(tmp_path):
    X, y = _xy(2)
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y.astype(bool))
    with pytest.raises(ConfigError, match="classes_ must be ints, floats or strings.*bool"):
        est.save(tmp_path / "b")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPRegressor().save(tmp_path / "u")
