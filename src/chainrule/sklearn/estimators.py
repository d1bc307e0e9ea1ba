"""MLPClassifier and MLPRegressor: scikit-learn's interface, chainrule's network and training."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .base import BaseMLP, stochastic
from .persistence import load as load_folder


def _arguments(local):
    """An ``__init__``'s arguments as keywords for BaseMLP.__init__ (each class restates the signature:
    scikit-learn reads the parameters and their defaults from it)."""
    return {k: v for k, v in local.items() if k not in ("self", "__class__", "class_weight")}


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier (scikit-learn's ``MLPClassifier`` interface, chainrule's training).

    Two classes: one logistic output (``out_activation_ = 'logistic'``); more: softmax outputs.
    loss: 'log_loss' (scikit-learn's cross-entropy) or chainrule's 'hinge' (two classes).
    class_weight: None, 'balanced' or {label: weight}, scikit-learn's meaning (``compute_class_weight``,
    'balanced' from the sample-weighted class counts, as its LogisticRegression), multiplied into ``sample_weight``.
    """

    _parameter_constraints = {**BaseMLP._parameter_constraints, "loss": [StrOptions({"log_loss", "hinge"})],
                              "class_weight": [None, StrOptions({"balanced"}), dict]}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, loss="log_loss", solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, dropout=0.0, batchnorm=False, optimizer=None,
                 optimizer_options=None, init=None, dtype="float64", seeds=None, class_weight=None):
        super().__init__(**_arguments(locals()))
        self.class_weight = class_weight

    def _loss_name(self):
        if self.loss == "hinge" and len(self.classes_) != 2:
            raise ValueError(f"loss='hinge' needs exactly 2 classes, found {len(self.classes_)}")
        return None if self.loss == "log_loss" else self.loss

    def _targets(self, y):
        if len(self.classes_) < 2:
            raise ValueError(f"MLPClassifier needs samples of at least 2 classes in the data, found 1 class: "
                             f"{self.classes_[0]!r}")
        self.out_activation_ = "logistic" if len(self.classes_) == 2 else "softmax"
        return self._binarizer.transform(y).astype(np.float64)

    def _decode(self, targets):
        return self.classes_[np.argmax(targets, axis=1)] if targets.shape[1] > 1 else self.classes_[
            targets[:, 0].astype(int)]

    def _check_y(self, y):
        check_classification_targets(y)
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(f"MLPClassifier: y must be binary or multiclass labels, found {type_of_target(y)}")

    def _weights(self, X, y, sample_weight, incremental):
        """sample_weight × the class weights (None when both are absent)."""
        if self.class_weight is None:
            return sample_weight
        if incremental and self.class_weight == "balanced":
            raise ValueError("class_weight='balanced' is not supported for partial_fit (the class frequencies "
                             "of one batch are not the data's); pass the weights as a dict")
        unknown = set(self.class_weight) - set(self.classes_.tolist()) if isinstance(self.class_weight, dict) else ()
        if unknown:
            raise ValueError(f"class_weight has labels not in the classes {self.classes_.tolist()!r}: "
                             f"{sorted(map(repr, unknown))[:5]}")
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if self.class_weight == "balanced":
            totals = np.bincount(np.searchsorted(self.classes_, y), weights=sample_weight, minlength=len(self.classes_))
            if not np.all(totals > 0):
                raise ValueError(f"class_weight='balanced': class {self.classes_[np.argmin(totals > 0)]!r} has total "
                                 f"sample weight 0, so its weight n / (n_classes · 0) is undefined")
        per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y, sample_weight=sample_weight)
        return sample_weight * per_class[np.searchsorted(self.classes_, y)]

    def fit(self, X, y, sample_weight=None):
        """Fit on X: (n, d) and labels y: (n,); sample_weight: (n,) or None."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        self._check_y(y)
        self._binarizer = LabelBinarizer().fit(y)
        self.classes_ = self._binarizer.classes_
        targets = self._targets(y)
        return self._fit(X, targets, self._weights(X, y, sample_weight, False), incremental=False)

    @available_if(stochastic)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y); ``classes`` (all labels) is required on the first call."""
        first = not hasattr(self, "classes_")
        if first:
            self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first)
        self._check_y(y)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._binarizer = LabelBinarizer().fit(np.asarray(classes))
            self.classes_ = self._binarizer.classes_
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={classes!r} is not the same as on the first call: {self.classes_!r}")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y has labels not in classes_ {self.classes_!r}: {unknown[:5]!r}")
        targets = self._targets(y)
        return self._fit(X, targets, self._weights(X, y, sample_weight, True), incremental=True)

    def _score_network(self, X, y, sample_weight):
        from sklearn.metrics import accuracy_score
        return accuracy_score(y, self._predict(X), sample_weight=sample_weight)

    def _network_proba(self, X):
        z = self._output(X)
        if self.out_activation_ == "logistic":
            p = 1.0 / (1.0 + np.exp(-np.clip(z[:, 0], -700, 700)))
            return np.column_stack([1.0 - p, p])
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def _proba(self, X):
        return self._averaged(X, MLPClassifier._network_proba)

    def _predict(self, X):
        return self.classes_[np.argmax(self._proba(X), axis=1)]

    def predict(self, X):
        """Labels: (n,)."""
        check_is_fitted(self)
        return self._predict(validate_data(self, X, reset=False, dtype=np.float64))

    def predict_proba(self, X):
        """Class probabilities: (n, n_classes), columns in the order of ``classes_``."""
        check_is_fitted(self)
        return self._proba(validate_data(self, X, reset=False, dtype=np.float64))

    def predict_log_proba(self, X):
        """log predict_proba: (n, n_classes)."""
        return np.log(self.predict_proba(X))


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor (scikit-learn's ``MLPRegressor`` interface, chainrule's training).

    loss: scikit-learn's 'squared_error' (½(ŷ − y)²) or 'poisson' (half the Poisson deviance, ŷ = exp(z),
    y ≥ 0: ``out_activation_ = 'exp'``), or chainrule's 'mse' ((ŷ − y)²), 'mae', 'huber'.
    """

    _parameter_constraints = {**BaseMLP._parameter_constraints,
                              "loss": [StrOptions({"squared_error", "poisson", "mse", "mae", "huber"})]}
    out_activation_ = "identity"

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, loss="squared_error", solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000, dropout=0.0, batchnorm=False,
                 optimizer=None, optimizer_options=None, init=None, dtype="float64", seeds=None):
        super().__init__(**_arguments(locals()))

    def _loss_name(self):
        return None if self.loss == "squared_error" else self.loss

    def _decode(self, targets):
        return targets if self._y_2d else targets[:, 0]

    def _prepare(self, X, y, reset):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, reset=reset)
        if reset:
            self._y_2d = y.ndim == 2
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(f"loss='poisson' needs targets y ≥ 0, found {np.min(y)!r}")
        return X, y.reshape(len(y), -1).astype(np.float64)

    def _values(self, X):
        """The network's predictions: its outputs, through exp for loss='poisson' (n, n_outputs_)."""
        z = self._output(X)
        return np.exp(z) if self.out_activation_ == "exp" else z

    def fit(self, X, y, sample_weight=None):
        """Fit on X: (n, d) and targets y: (n,) or (n, k); sample_weight: (n,) or None."""
        self._validate_params()
        X, y = self._prepare(X, y, reset=True)
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(stochastic)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing the same optimizer."""
        first = not (hasattr(self, "_model") or hasattr(self, "estimators_"))
        if first:
            self._validate_params()
        X, y = self._prepare(X, y, reset=first)
        return self._fit(X, y, sample_weight, incremental=True)

    def _score_network(self, X, y, sample_weight):
        from sklearn.metrics import r2_score
        return r2_score(y, self._decode(self._values(X)), sample_weight=sample_weight)

    def predict(self, X):
        """Predictions: (n,) for a 1-D y in fit, else (n, k)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._decode(self._averaged(X, MLPRegressor._values))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags


def load(path):
    """The MLPClassifier or MLPRegressor saved in the folder ``path`` (``est.save(path)``)."""
    return load_folder(path, {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor})
