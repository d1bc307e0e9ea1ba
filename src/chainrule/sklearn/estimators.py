"""MLPClassifier and MLPRegressor: scikit-learn's interface, chainrule's network and training."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .base import BaseMLP, stochastic


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier (scikit-learn's ``MLPClassifier`` interface, chainrule's training).

    Two classes: one logistic output (``out_activation_ = 'logistic'``); more: softmax outputs.
    """

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

    def fit(self, X, y, sample_weight=None):
        """Fit on X: (n, d) and labels y: (n,); sample_weight: (n,) or None."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        self._check_y(y)
        self._binarizer = LabelBinarizer().fit(y)
        self.classes_ = self._binarizer.classes_
        return self._fit(X, self._targets(y), sample_weight, incremental=False)

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
        return self._fit(X, self._targets(y), sample_weight, incremental=True)

    def _score_network(self, X, y, sample_weight):
        from sklearn.metrics import accuracy_score
        return accuracy_score(y, self._predict(X), sample_weight=sample_weight)

    def _proba(self, X):
        z = self._output(X)
        if self.out_activation_ == "logistic":
            p = 1.0 / (1.0 + np.exp(-np.clip(z[:, 0], -700, 700)))
            return np.column_stack([1.0 - p, p])
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

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
    """Multi-layer perceptron regressor (scikit-learn's ``MLPRegressor`` interface, chainrule's training)."""

    out_activation_ = "identity"

    def _decode(self, targets):
        return targets if self._y_2d else targets[:, 0]

    def _prepare(self, X, y, reset):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, reset=reset)
        if reset:
            self._y_2d = y.ndim == 2
        return X, y.reshape(len(y), -1).astype(np.float64)

    def fit(self, X, y, sample_weight=None):
        """Fit on X: (n, d) and targets y: (n,) or (n, k); sample_weight: (n,) or None."""
        self._validate_params()
        X, y = self._prepare(X, y, reset=True)
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(stochastic)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing the same optimizer."""
        first = not hasattr(self, "_model")
        if first:
            self._validate_params()
        X, y = self._prepare(X, y, reset=first)
        return self._fit(X, y, sample_weight, incremental=True)

    def _score_network(self, X, y, sample_weight):
        from sklearn.metrics import r2_score
        return r2_score(y, self._decode(self._output(X)), sample_weight=sample_weight)

    def predict(self, X):
        """Predictions: (n,) for a 1-D y in fit, else (n, k)."""
        check_is_fitted(self)
        return self._decode(self._output(validate_data(self, X, reset=False, dtype=np.float64)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
