"""scikit-learn estimators trained by chainrule: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in names: scikit-learn's own parameters and defaults where the meaning is the same, so
replacing the import is enough. The network is a ``chainrule.nn.MLP``, trained by a
``chainrule.train.Trainer`` with chainrule's optimizers; the objective is scikit-learn's:

    L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ + ½ α Σ_layers ‖W‖² / Σᵢ wᵢ      (per mini-batch, biases not penalized)

with ℓ the softmax cross-entropy (multi-class), the binary cross-entropy of one logistic output
(two classes) or half the squared error averaged over outputs (regression). Training stops, as
scikit-learn's does, when the epoch's loss (or, with ``early_stopping``, the validation score)
has not improved by ``tol`` for more than ``n_iter_no_change`` epochs, or after ``max_iter``
epochs (a ConvergenceWarning). Every random choice derives from ``random_state`` (an int: the
same model bit for bit; a RandomState: drawn from; None: NumPy's global generator), and nothing
is held out unless ``early_stopping=True`` asks for it.

Fitted attributes: ``coefs_`` ((in, out) arrays, scikit-learn's layout: views of chainrule's
(out, in) weights, transposed), ``intercepts_``, ``loss_curve_``, ``best_loss_``,
``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``, ``n_layers_``,
``n_outputs_``, ``out_activation_``, ``classes_``, ``n_features_in_``, ``feature_names_in_``.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import numpy as cnp
from .nn import MLP
from .nn.activations import ACTIVATIONS
from .primitives.nn import softmax_cross_entropy
from .train.callbacks import Callback
from .train.evaluation import predict as network_output
from .train.trainer import Trainer

__all__ = ["MLPClassifier", "MLPRegressor"]

# scikit-learn's activation names -> chainrule's (chainrule's own names are accepted as they are).
_SKLEARN_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_ACTIVATIONS = sorted(set(_SKLEARN_ACTIVATIONS) | set(ACTIVATIONS) - {"softmax"})


def _objective_loss(kind):
    """ℓ over a packed target (batch, k + 1): k target columns, then each sample's weight."""

    def loss(z, packed):
        y, w = packed[:, :-1], packed[:, -1]
        if kind == "softmax":
            per_sample = softmax_cross_entropy(z, y)
        elif kind == "logistic":  # softplus(z) − y z = −y log σ(z) − (1 − y) log(1 − σ(z))
            per_sample = cnp.sum(cnp.softplus(z) - z * y, axis=1)
        else:
            per_sample = 0.5 * cnp.mean((z - y) * (z - y), axis=1)
        return cnp.sum(per_sample * w) / cnp.sum(w)

    loss.__name__ = f"sklearn_{kind}"
    loss.task, loss.targets, loss.n_classes, loss.checks_width, loss.stageable = (
        "regression", "values", None, False, True)
    return loss


class _PenalizedTrainer(Trainer):
    """The Trainer with scikit-learn's L2 term ½ α Σ‖W‖² / Σ wᵢ added to each batch's objective."""

    def __init__(self, model, *, alpha, **options):
        self.alpha = float(alpha)
        self.weight_keys = [k for k in model.params if k.endswith("weight")]
        super().__init__(model, **options)

    def _objective(self, params, xb, yb, buffers):
        loss, buffers = super()._objective(params, xb, yb, buffers)
        if self.alpha:
            squares = sum(cnp.sum(params[k] * params[k]) for k in self.weight_keys)
            loss = loss + (0.5 * self.alpha) * squares / cnp.sum(yb[:, -1])
        return loss, buffers


class _EpochEnd(Callback):
    """scikit-learn's bookkeeping and stopping rule at each epoch's end."""

    def __init__(self, estimator, n_samples, validation):
        self.estimator, self.n_samples, self.validation = estimator, n_samples, validation

    def on_epoch_end(self, trainer, epoch, logs):
        est = self.estimator
        loss = float(logs["loss"])
        est.loss_curve_.append(loss)
        est.n_iter_ += 1
        est.t_ += self.n_samples
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation is not None:
            score = est._score_network(*self.validation)
            est.validation_scores_.append(score)
            if score > est.best_validation_score_:
                est._best_params = {k: v.copy() for k, v in trainer.model.params.items()}
            improved = score > est.best_validation_score_ + est.tol
            est.best_validation_score_ = max(est.best_validation_score_, score)
        else:
            improved = loss < est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if est._no_improvement_count > est.n_iter_no_change:
            est._converged = True
            trainer.stop_training = True
            if est.verbose:
                print(f"{'Validation score' if self.validation else 'Training loss'} did not improve more than "
                      f"tol={est.tol:f} for {est.n_iter_no_change} consecutive epochs. Stopping.")


def _stochastic(estimator):
    """partial_fit exists for the stochastic solvers only (as in scikit-learn: hasattr says so)."""
    if estimator.solver not in ("sgd", "adam"):
        raise AttributeError(f"partial_fit is only available for stochastic optimizers; solver is {estimator.solver!r}")
    return True


class _BaseMLP(BaseEstimator):
    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate_init=0.001, max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

    # -- building ------------------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if any(not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, found {self.hidden_layer_sizes!r}")
        return [int(s) for s in sizes]

    def _optimizer_options(self):
        if self.solver == "adam":
            return "adam", {"learning_rate": self.learning_rate_init, "betas": (self.beta_1, self.beta_2),
                            "eps": self.epsilon}
        if self.solver == "sgd":
            return "sgd", {"learning_rate": self.learning_rate_init, "momentum": self.momentum,
                           "nesterov": bool(self.nesterovs_momentum and self.momentum > 0)}
        return "lbfgs", {}

    def _new_trainer(self, model, seed, batch_size, n_samples):
        name, options = self._optimizer_options()
        learning_rate = options.pop("learning_rate", None)
        return _PenalizedTrainer(model, alpha=self.alpha, loss=_objective_loss(self.out_activation_),
                                 optimizer=name, learning_rate=learning_rate, optimizer_options=options,
                                 batch_size=batch_size, seed=seed, metrics=[], verbose=0, metric_samples=1)

    def _fit(self, X, y, sample_weight, incremental):
        """Train on (X, targets (n, k)); a fresh network unless warm_start or incremental."""
        n = X.shape[0]
        w = np.ones(n) if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float64)
        rng = check_random_state(self.random_state)
        validation = None
        if self.early_stopping and not incremental:
            stratify = y if isinstance(self, ClassifierMixin) and y.shape[1] == 1 else None
            X, X_val, y, y_val, w, w_val = train_test_split(
                X, y, w, random_state=rng, test_size=self.validation_fraction, stratify=stratify)
            validation = (X_val, self._decode(y_val), w_val)
            n = X.shape[0]
        fresh = not hasattr(self, "_model") or not (self.warm_start or incremental)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if fresh:
            act = _SKLEARN_ACTIVATIONS.get(self.activation, self.activation)
            self._model = MLP([X.shape[1], *self._hidden_sizes(), y.shape[1]], activation=act)
            self._model.init(seed=seed, dtype=np.float64)
            self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []
            self.best_loss_ = np.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
            self._trainer = None
        batch_size = n if self.solver == "lbfgs" else (
            min(200, n) if self.batch_size == "auto" else min(self.batch_size, n))
        if self.solver != "lbfgs" and self.batch_size != "auto" and self.batch_size > n:
            warnings.warn(f"batch_size={self.batch_size} is larger than the {n} training samples; clipped to {n}",
                          UserWarning, stacklevel=3)
        if not incremental or getattr(self, "_trainer", None) is None:
            self._trainer = self._new_trainer(self._model, seed, batch_size, n)
        self._no_improvement_count, self._converged, self._best_params = 0, False, None
        trainer = self._trainer
        trainer.callbacks = [_EpochEnd(self, n, validation)]
        packed = np.column_stack([y, w])
        trainer.fit(X, packed, epochs=1 if incremental else self.max_iter, shuffle=self.shuffle)
        if self._best_params is not None:  # early stopping: the best validation score's weights
            for k, v in self._best_params.items():
                self._model.params[k][...] = v
        del self._best_params
        if not incremental and not self._converged and self.solver != "lbfgs":
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        weights = [k for k in self._model.params if k.endswith("weight")]
        self.coefs_ = [self._model.params[k].T for k in weights]
        self.intercepts_ = [self._model.params[k[: -len("weight")] + "bias"] for k in weights]
        self.n_layers_ = len(weights) + 1
        self.n_outputs_ = y.shape[1]
        return self

    def _output(self, X):
        """The network's last layer before the output function: (n, n_outputs_)."""
        return network_output(self._model, np.ascontiguousarray(X, dtype=np.float64))

    def __getstate__(self):  # the trainer holds compiled code: partial_fit after unpickling starts afresh
        state = dict(self.__dict__)
        state.pop("_trainer", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
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

    @available_if(_stochastic)
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


class MLPRegressor(RegressorMixin, _BaseMLP):
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

    @available_if(_stochastic)
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
