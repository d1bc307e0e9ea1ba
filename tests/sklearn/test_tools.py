"""The estimators with chainrule's parameters inside scikit-learn's tools, and with DataFrames."""

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_dataframe_input_sets_feature_names_in_():
    pd = pytest.importorskip("pandas")
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    frame = pd.DataFrame(X, columns=["age", "income", "height"])
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(frame, pd.Series(y / y.std()))
    assert est.feature_names_in_.tolist() == ["age", "income", "height"] and est.n_features_in_ == 3
    plain = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y / y.std())
    assert np.array_equal(est.predict(frame), plain.predict(X))  # the same numbers, named
    assert not hasattr(plain, "feature_names_in_")
    with pytest.raises(ValueError, match="feature names"):
        est.predict(frame[["income", "age", "height"]])


def test_grid_search_over_chainrules_parameters_in_a_pipeline():
    X, y = make_classification(n_samples=90, n_features=4, weights=[0.7, 0.3], random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(5,), max_iter=20,
                                                         learning_rate_init=0.05, random_state=0))
    grid = {"mlpclassifier__class_weight": [None, "balanced"], "mlpclassifier__optimizer": [None, "rmsprop"],
            "mlpclassifier__seeds": [None, 2], "mlpclassifier__dtype": ["float64", "float32"]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 16
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_[-1]
    assert best.seeds == search.best_params_["mlpclassifier__seeds"]
    scores = cross_val_score(clone(search.best_estimator_), X, y, cv=3)
    again = cross_val_score(clone(search.best_estimator_), X, y, cv=3)
    assert np.array_equal(scores, again)  # random_state=0: the same folds fit the same models


def test_clone_of_a_fitted_ensemble_is_unfitted_and_refits_identically():
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(4,), seeds=2, max_iter=5, random_state=1).fit(X, y)
    twin = clone(est)
    assert not hasattr(twin, "estimators_") and twin.get_params() == est.get_params()
    assert np.array_equal(twin.fit(X, y).predict_proba(X), est.predict_proba(X))


def test_a_user_may_pickle_it_with_pythons_tools():
    # chainrule never unpickles its own files (save/load is JSON + safetensors); a user who pickles an
    # estimator, as scikit-learn's docs show, gets the same predictions back (the trainer is dropped)
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(est))
    assert np.array_equal(back.predict_proba(X), est.predict_proba(X)) and "_trainer" not in back.__dict__
