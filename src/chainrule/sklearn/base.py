"""What both estimators share: the parameters, their constraints and the fit over chainrule's Trainer."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ..errors import ConfigError
from ..nn import MLP
from ..nn import init as initializers
from ..nn.activations import ACTIVATIONS
from ..optim.registry import OPTIMIZERS
from ..train.evaluation import predict as network_output
from .initialization import sklearn_init
from .training import EpochEnd, PenalizedTrainer, dense_keys, objective_loss

# scikit-learn's activation names -> chainrule's (chainrule's own names are accepted as they are).
_SKLEARN_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_ACTIVATIONS = sorted(set(_SKLEARN_ACTIVATIONS) | set(ACTIVATIONS) - {"softmax"})


def stochastic(estimator):
    """partial_fit exists for the stochastic solvers only (as in scikit-learn: hasattr says so)."""
    if estimator._optimizer_name() == "lbfgs":
        raise AttributeError(f"partial_fit is only available for stochastic optimizers; solver is {estimator.solver!r}"
                             + (f", optimizer {estimator.optimizer!r}" if estimator.optimizer else ""))
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
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "batchnorm": ["boolean"],
        "optimizer": [None, StrOptions(set(OPTIMIZERS))],
        "optimizer_options": [None, dict],
        "init": [None, str],
        "dtype": [StrOptions({"float32", "float64"}), Options(type, {np.float32, np.float64})],
        "seeds": [None, Interval(numbers.Integral, 1, None, closed="left"), list, tuple],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, loss=None, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dropout=0.0, batchnorm=False, optimizer=None,
                 optimizer_options=None, init=None, dtype="float64", seeds=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
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
        self.max_fun = max_fun
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.optimizer = optimizer
        self.optimizer_options = optimizer_options
        self.init = init
        self.dtype = dtype
        self.seeds = seeds

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

    def _optimizer_name(self):
        """chainrule's optimizer: ``optimizer`` when given, else the one ``solver`` names."""
        return self.optimizer or self.solver

    def _optimizer_options(self):
        if self.optimizer is not None:  # chainrule's optimizer: its own options, learning_rate_init as its rate
            options = dict(self.optimizer_options or {})
            if self.optimizer != "lbfgs":
                options.setdefault("learning_rate", self.learning_rate_init)
            return self.optimizer, options
        if self.optimizer_options:
            raise ValueError(f"optimizer_options={self.optimizer_options!r} needs optimizer= (a chainrule optimizer "
                             f"by name); solver={self.solver!r} takes scikit-learn's parameters")
        if self.solver == "adam":
            return "adam", {"learning_rate": self.learning_rate_init, "betas": (self.beta_1, self.beta_2),
                            "eps": self.epsilon}
        if self.solver == "sgd":
            return "sgd", {"learning_rate": self.learning_rate_init, "momentum": self.momentum,
                           "nesterov": bool(self.nesterovs_momentum and self.momentum > 0)}
        return "lbfgs", {}

    def _float(self):
        return np.dtype(self.dtype).type

    def _new_trainer(self, model, seed, batch_size):
        name, options = self._optimizer_options()
        learning_rate = options.pop("learning_rate", None)
        return PenalizedTrainer(model, alpha=self.alpha, loss=objective_loss(self.out_activation_, self._loss_name()),
                                optimizer=name, learning_rate=learning_rate, optimizer_options=options,
                                batch_size=batch_size, seed=seed, metrics=[], verbose=0, metric_samples=1)

    def _new_network(self, d_in, d_out, rng):
        hidden = self._hidden_sizes()
        activations = self._activations(len(hidden))
        if self.init is not None:
            try:
                initializers.get(self.init)
            except ConfigError as e:
                raise ValueError(f"init: {e}") from None
        model = MLP([d_in, *hidden, d_out], activation=activations, init=self.init, dropout=float(self.dropout),
                    batchnorm=bool(self.batchnorm))
        model.init(seed=0, dtype=self._float())  # (with init=None every Dense is redrawn below)
        if self.init is None:  # scikit-learn's draws from the same generator (its _init_coef)
            sklearn_init(model, rng, self.activation, self._float())
        return model

    def _fit(self, X, y, sample_weight, incremental):
        """Train on (X, targets (n, k)); a fresh network unless warm_start or incremental."""
        if self.seeds is not None:
            from .members import fit_members

            return fit_members(self, X, y, sample_weight, incremental)
        for name in ("estimators_", "seeds_", "loss_curves_"):  # (an ensemble's, from an earlier fit)
            self.__dict__.pop(name, None)
        dtype = self._float()
        X = np.ascontiguousarray(X, dtype=dtype)
        n = X.shape[0]
        w = np.ones(n) if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float64)
        rng = check_random_state(self.random_state)
        fresh = not hasattr(self, "_model") or not (self.warm_start or incremental)
        if not fresh and (self._model.d_in, self._model.d_out) != (X.shape[1], y.shape[1]):
            raise ValueError(f"warm_start/partial_fit: the fitted network has {self._model.d_in} inputs and "
                             f"{self._model.d_out} outputs, this data needs {X.shape[1]} and {y.shape[1]}")
        if fresh:  # (first, as scikit-learn: its initialization draws come first from random_state)
            self._model = self._new_network(X.shape[1], y.shape[1], rng)
        validation = None
        if self.early_stopping and not incremental:
            stratify = self._decode(y) if isinstance(self, ClassifierMixin) else None
            X, X_val, y, y_val, w, w_val = train_test_split(
                X, y, w, random_state=rng, test_size=self.validation_fraction, stratify=stratify)
            validation = (X_val, self._decode(y_val), w_val)
            n = X.shape[0]
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if fresh:
            if self.init is not None:  # chainrule's initializer, from the seed
                self._model.init(seed=seed, dtype=dtype)
            self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []
            early = self.early_stopping and not incremental  # (partial_fit holds nothing out)
            self.best_loss_ = None if early else np.inf
            self.validation_scores_ = [] if early else None
            self.best_validation_score_ = -np.inf if early else None
            self._trainer = None
        full_batch = self._optimizer_name() == "lbfgs"
        batch_size = n if full_batch else (min(200, n) if self.batch_size == "auto" else min(self.batch_size, n))
        if not full_batch and self.batch_size != "auto" and self.batch_size > n:
            warnings.warn(f"batch_size={self.batch_size} is larger than the {n} training samples; clipped to {n}",
                          UserWarning, stacklevel=3)
        if not incremental or getattr(self, "_trainer", None) is None:
            self._trainer = self._new_trainer(self._model, seed, batch_size)
        self._trainer.batch_size = batch_size  # (partial_fit: min(200, n) of this call's n, as scikit-learn)
        self._no_improvement_count, self._converged, self._best_params = 0, False, None
        trainer = self._trainer
        trainer.callbacks = [EpochEnd(self, n, validation)]
        packed = np.column_stack([y, w]).astype(dtype)
        trainer.fit(X, packed, epochs=1 if incremental else self.max_iter, shuffle=self.shuffle)
        if self._best_params is not None:  # early stopping: the best validation score's weights
            for k, v in self._best_params.items():
                self._model.params[k][...] = v
        del self._best_params
        if not incremental and not self._converged:
            reason = (f"Maximum function evaluations ({self.max_fun})" if full_batch and
                      trainer.evaluations >= self.max_fun else f"Maximum iterations ({self.max_iter})")
            warnings.warn(f"{'L-BFGS' if full_batch else 'Stochastic Optimizer'}: {reason} reached and the "
                          f"optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        self._expose_weights()
        return self

    def _expose_weights(self):
        """coefs_ (in, out) and intercepts_: views of the network's parameters, scikit-learn's layout."""
        keys = dense_keys(self._model)
        self.coefs_ = [self._model.params[w].T for w, _ in keys]
        self.intercepts_ = [self._model.params[b] for _, b in keys]
        self.n_layers_ = len(keys) + 1
        self.n_outputs_ = self._model.d_out

    def _output(self, X):
        """The network's last layer before the output function: (n, n_outputs_)."""
        return network_output(self._model, np.ascontiguousarray(X, dtype=self._model.dtype))

    def _averaged(self, X, prediction):
        """``prediction(member, X)``, averaged over the members of a ``seeds=`` ensemble (else its own)."""
        members = self.__dict__.get("estimators_")
        if members is None:
            return prediction(self, X)
        return np.mean([prediction(m, X) for m in members], axis=0)

    def save(self, path):
        """Write the fitted estimator to the folder ``path`` (JSON + safetensors, no pickle; see persistence)."""
        from .persistence import save

        return save(self, path)

    @classmethod
    def load(cls, path):
        """The estimator of this class saved in the folder ``path`` by ``save``."""
        from .persistence import load

        return load(path, {c.__name__: c for c in BaseMLP.__subclasses__()}, expected=cls)

    def to_onnx(self, path, opset=None):
        """Write the fitted estimator as an ONNX model to ``path`` (onnx_graph.py: inputs, outputs)."""
        from .onnx_graph import estimator_to_onnx

        return estimator_to_onnx(self, path, opset)

    def __getstate__(self):  # the trainer holds compiled code: partial_fit after unpickling starts afresh
        state = dict(self.__dict__)
        state.pop("_trainer", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
