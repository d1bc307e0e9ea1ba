"""What both estimators share: the parameters, their constraints and the fit over chainrule's Trainer."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ..nn import MLP
from ..nn.activations import ACTIVATIONS
from ..train.evaluation import predict as network_output
from .training import EpochEnd, PenalizedTrainer, dense_keys, objective_loss

# scikit-learn's activation names -> chainrule's (chainrule's own names are accepted as they are).
_SKLEARN_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_ACTIVATIONS = sorted(set(_SKLEARN_ACTIVATIONS) | set(ACTIVATIONS) - {"softmax"})


def stochastic(estimator):
    """partial_fit exists for the stochastic solvers only (as in scikit-learn: hasattr says so)."""
    if estimator.solver not in ("sgd", "adam"):
        raise AttributeError(f"partial_fit is only available for stochastic optimizers; solver is {estimator.solver!r}")
    return True


class BaseMLP(BaseEstimator):
    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS)), list, tuple],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
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
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "batchnorm": ["boolean"],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, dropout=0.0, batchnorm=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.power_t = power_t
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
        self.dropout = dropout
        self.batchnorm = batchnorm

    # -- building ------------------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if any(not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, found {self.hidden_layer_sizes!r}")
        return [int(s) for s in sizes]

    def _activations(self, n_hidden):
        """chainrule's name per hidden layer: one name for all, or a list with one per layer."""
        names = self.activation if isinstance(self.activation, list | tuple) else [self.activation] * n_hidden
        if len(names) != n_hidden:
            raise ValueError(f"activation: {len(names)} names given for {n_hidden} hidden layers "
                             f"(hidden_layer_sizes={self.hidden_layer_sizes!r})")
        unknown = [a for a in names if a not in _ACTIVATIONS]
        if unknown:
            raise ValueError(f"activation: unknown name {unknown[0]!r}; valid names: {', '.join(_ACTIVATIONS)}")
        return [_SKLEARN_ACTIVATIONS.get(a, a) for a in names]

    def _optimizer_options(self):
        if self.solver == "adam":
            return "adam", {"learning_rate": self.learning_rate_init, "betas": (self.beta_1, self.beta_2),
                            "eps": self.epsilon}
        if self.solver == "sgd":
            return "sgd", {"learning_rate": self.learning_rate_init, "momentum": self.momentum,
                           "nesterov": bool(self.nesterovs_momentum and self.momentum > 0)}
        return "lbfgs", {}

    def _new_trainer(self, model, seed, batch_size):
        name, options = self._optimizer_options()
        learning_rate = options.pop("learning_rate", None)
        return PenalizedTrainer(model, alpha=self.alpha, loss=objective_loss(self.out_activation_),
                                 optimizer=name, learning_rate=learning_rate, optimizer_options=options,
                                 batch_size=batch_size, seed=seed, metrics=[], verbose=0, metric_samples=1)

    def _fit(self, X, y, sample_weight, incremental):
        """Train on (X, targets (n, k)); a fresh network unless warm_start or incremental."""
        n = X.shape[0]
        w = np.ones(n) if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float64)
        rng = check_random_state(self.random_state)
        validation = None
        if self.early_stopping and not incremental:
            stratify = self._decode(y) if isinstance(self, ClassifierMixin) else None
            X, X_val, y, y_val, w, w_val = train_test_split(
                X, y, w, random_state=rng, test_size=self.validation_fraction, stratify=stratify)
            validation = (X_val, self._decode(y_val), w_val)
            n = X.shape[0]
        fresh = not hasattr(self, "_model") or not (self.warm_start or incremental)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if not fresh and (self._model.d_in, self._model.d_out) != (X.shape[1], y.shape[1]):
            raise ValueError(f"warm_start/partial_fit: the fitted network has {self._model.d_in} inputs and "
                             f"{self._model.d_out} outputs, this data needs {X.shape[1]} and {y.shape[1]}")
        if fresh:
            hidden = self._hidden_sizes()
            activations = self._activations(len(hidden))
            # scikit-learn's initialization: Glorot-uniform, U(±sqrt(6 / (fan_in + fan_out))), for every
            # activation but the logistic (which it scales by 1/√3 more); chainrule's He init for ReLU
            # gave a clearly lower R² on bench/sklearn_compare.py's regression (0.971 vs 0.990)
            init = None if "sigmoid" in activations else "xavier_uniform"
            self._model = MLP([X.shape[1], *hidden, y.shape[1]], activation=activations, init=init,
                              dropout=float(self.dropout), batchnorm=bool(self.batchnorm))
            self._model.init(seed=seed, dtype=np.float64)
            self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []
            early = self.early_stopping and not incremental  # (partial_fit holds nothing out)
            self.best_loss_ = None if early else np.inf
            self.validation_scores_ = [] if early else None
            self.best_validation_score_ = -np.inf if early else None
            self._trainer = None
        batch_size = n if self.solver == "lbfgs" else (
            min(200, n) if self.batch_size == "auto" else min(self.batch_size, n))
        if self.solver != "lbfgs" and self.batch_size != "auto" and self.batch_size > n:
            warnings.warn(f"batch_size={self.batch_size} is larger than the {n} training samples; clipped to {n}",
                          UserWarning, stacklevel=3)
        if not incremental or getattr(self, "_trainer", None) is None:
            self._trainer = self._new_trainer(self._model, seed, batch_size)
        self._trainer.batch_size = batch_size  # (partial_fit: min(200, n) of this call's n, as scikit-learn)
        self._no_improvement_count, self._converged, self._best_params = 0, False, None
        trainer = self._trainer
        trainer.callbacks = [EpochEnd(self, n, validation)]
        packed = np.column_stack([y, w])
        trainer.fit(X, packed, epochs=1 if incremental else self.max_iter, shuffle=self.shuffle)
        if self._best_params is not None:  # early stopping: the best validation score's weights
            for k, v in self._best_params.items():
                self._model.params[k][...] = v
        del self._best_params
        if not incremental and not self._converged:
            warnings.warn(f"{'L-BFGS' if self.solver == 'lbfgs' else 'Stochastic Optimizer'}: Maximum iterations "
                          f"({self.max_iter}) reached and the optimization hasn't converged yet.",
                          ConvergenceWarning, stacklevel=3)
        keys = dense_keys(self._model)
        self.coefs_ = [self._model.params[w].T for w, _ in keys]
        self.intercepts_ = [self._model.params[b] for _, b in keys]
        self.n_layers_ = len(keys) + 1
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
