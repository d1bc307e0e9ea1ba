"""Learning-rate schedules: ``schedule(step) -> learning rate``.

A schedule knows its base learning rate and is called by the optimizer with the number of steps
already taken (0 for the first step), so ``opt = Adam(params, learning_rate=Cosine(1e-3, 1000))``
decays per optimizer step. ``ReduceOnPlateau`` instead reacts to a metric: the trainer calls
``schedule.observe(metric)`` once per epoch (every schedule has ``observe``; the others ignore it).

Every schedule has ``state_dict()`` / ``load_state_dict(state)`` (empty for the pure functions of
the step) and ``config()``, a JSON-able dict that ``get_schedule(**config)`` turns back into an
equal schedule.
"""

from __future__ import annotations

import math
import numbers

from ..constraints import NON_NEGATIVE_INT, NON_NEGATIVE_REAL, POSITIVE_INT, POSITIVE_REAL, Interval, Options, validate
from ..errors import ConfigError
from . import _checks


class Schedule:
    """Base class: subclasses define ``__call__(step) -> float`` and set ``name`` and ``_config``."""

    name = ""
    learning_rate: float
    _config: dict
    _parameter_constraints: dict = {}  # what each constructor argument may be (``chainrule.constraints``)

    def _validate(self, arguments):
        """Check the constructor's arguments (its ``locals()``) against the class's table."""
        table = self._parameter_constraints
        validate(type(self).__name__, table, {k: arguments[k] for k in table if k in arguments})

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def observe(self, metric: float) -> None:
        """Schedules that do not react to metrics ignore them (so a trainer may always call this)."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        _checks.exact_keys(type(self).__name__, state, ())

    def config(self) -> dict:
        return {"name": self.name, **self._config}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


def _base_lr(owner, learning_rate):
    return _checks.real(owner, "learning_rate", learning_rate, low=0.0)


class Constant(Schedule):
    """lr(t) = learning_rate."""

    name = "constant"
    _parameter_constraints = {"learning_rate": [POSITIVE_REAL]}

    def __init__(self, learning_rate: float):
        self._validate(locals())
        self.learning_rate = _base_lr("Constant", learning_rate)
        self._config = {"learning_rate": self.learning_rate}

    def __call__(self, step: int) -> float:
        return self.learning_rate


class StepDecay(Schedule):
    """lr(t) = learning_rate · gamma^⌊t / step_size⌋ (torch's StepLR, stepped once per optimizer step)."""

    name = "step"
    _parameter_constraints = {"learning_rate": [POSITIVE_REAL], "step_size": [POSITIVE_INT],
                              "gamma": [NON_NEGATIVE_REAL]}

    def __init__(self, learning_rate: float, step_size: int, gamma: float = 0.1):
        self._validate(locals())
        self.learning_rate = _base_lr("StepDecay", learning_rate)
        self.step_size = _checks.integer("StepDecay", "step_size", step_size, low=1)
        self.gamma = _checks.real("StepDecay", "gamma", gamma, low=0.0)
        self._config = {"learning_rate": self.learning_rate, "step_size": self.step_size, "gamma": self.gamma}

    def __call__(self, step: int) -> float:
        return self.learning_rate * self.gamma ** (step // self.step_size)


class Exponential(Schedule):
    """lr(t) = learning_rate · gamma^t (torch's ExponentialLR, stepped once per optimizer step)."""

    name = "exponential"
    _parameter_constraints = {"learning_rate": [POSITIVE_REAL], "gamma": [NON_NEGATIVE_REAL]}

    def __init__(self, learning_rate: float, gamma: float):
        self._validate(locals())
        self.learning_rate = _base_lr("Exponential", learning_rate)
        self.gamma = _checks.real("Exponential", "gamma", gamma, low=0.0)
        self._config = {"learning_rate": self.learning_rate, "gamma": self.gamma}

    def __call__(self, step: int) -> float:
        return self.learning_rate * self.gamma**step


class Cosine(Schedule):
    """Cosine annealing (Loshchilov & Hutter 2017, SGDR without restarts).

    lr(t) = min_lr + (learning_rate − min_lr) · (1 + cos(π · min(t, T) / T)) / 2,  T = total_steps.
    Equal to torch's CosineAnnealingLR(T_max=T, eta_min=min_lr) for t ≤ T; after T it stays at
    min_lr (torch's would climb back up along the cosine).
    """

    name = "cosine"
    _parameter_constraints = {"learning_rate": [POSITIVE_REAL], "total_steps": [POSITIVE_INT],
                              "min_lr": [NON_NEGATIVE_REAL]}

    def __init__(self, learning_rate: float, total_steps: int, min_lr: float = 0.0):
        self._validate(locals())
        self.learning_rate = _base_lr("Cosine", learning_rate)
        self.total_steps = _checks.integer("Cosine", "total_steps", total_steps, low=1)
        self.min_lr = _checks.real("Cosine", "min_lr", min_lr, low=0.0, high=self.learning_rate)
        self._config = {"learning_rate": self.learning_rate, "total_steps": self.total_steps,
                        "min_lr": self.min_lr}

    def __call__(self, step: int) -> float:
        fraction = min(step, self.total_steps) / self.total_steps
        return self.min_lr + (self.learning_rate - self.min_lr) * (1.0 + math.cos(math.pi * fraction)) / 2.0


class LinearWarmup(Schedule):
    """Linear warmup, then another schedule (Goyal et al. 2017).

    lr(t) = target · (t + 1) / warmup_steps   for t < warmup_steps, target = then(0)
    lr(t) = then(t − warmup_steps)             afterwards (``then`` starts at its own step 0).
    The ramp never gives a zero learning rate and reaches the target at the last warmup step;
    it equals torch's LinearLR(start_factor=1/W, total_iters=W−1) chained with SequentialLR.
    ``then`` may be a Schedule or a number (a constant); ``learning_rate=x`` alone means
    ``then=x``. ``observe`` is passed on to ``then``.
    """

    name = "linear_warmup"
    _parameter_constraints = {"warmup_steps": [POSITIVE_INT], "then": [None, Schedule, POSITIVE_REAL],
                              "learning_rate": [None, POSITIVE_REAL]}

    def __init__(self, warmup_steps: int, then: Schedule | float | None = None, learning_rate: float | None = None):
        self._validate(locals())
        self.warmup_steps = _checks.integer("LinearWarmup", "warmup_steps", warmup_steps, low=1)
        if then is None:
            if learning_rate is None:
                raise ConfigError("LinearWarmup: give the schedule to warm up to (then=...) or a learning_rate")
            then = learning_rate
        self.then = then if isinstance(then, Schedule) else Constant(then)
        self.learning_rate = self.then(0)
        if learning_rate is not None and float(learning_rate) != self.learning_rate:
            raise ConfigError(f"LinearWarmup: learning_rate={learning_rate} but then starts at "
                              f"{self.learning_rate}; give only one of them")

    @property
    def _config(self):
        return {"warmup_steps": self.warmup_steps, "then": self.then.config()}

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.then(0) * (step + 1) / self.warmup_steps
        return self.then(step - self.warmup_steps)

    def observe(self, metric: float) -> None:
        self.then.observe(metric)

    def state_dict(self) -> dict:
        return {f"then/{k}": v for k, v in self.then.state_dict().items()}

    def load_state_dict(self, state: dict) -> None:
        _checks.exact_keys("LinearWarmup", state, self.state_dict())
        self.then.load_state_dict({k[len("then/"):]: v for k, v in state.items()})


class ReduceOnPlateau(Schedule):
    """Multiply the learning rate by ``factor`` when a metric stops improving (torch's ReduceLROnPlateau).

    ``observe(metric)`` is called once per epoch. The metric improves when it is below
    best · (1 − threshold) (mode='min', threshold_mode='rel'; mode='max' mirrors it, and
    threshold_mode='abs' uses best ∓ threshold). After more than ``patience`` epochs without
    improvement: lr ← max(lr · factor, min_lr), then ``cooldown`` epochs during which bad epochs are
    not counted. A NaN metric never improves. ``schedule(step)`` returns the current rate.
    """

    name = "reduce_on_plateau"
    _EPS = 1e-8  # torch's eps: reductions smaller than this are ignored
    _parameter_constraints = {"learning_rate": [POSITIVE_REAL], "factor": [Interval(numbers.Real, 0, 1, "left")],
                              "patience": [NON_NEGATIVE_INT], "min_lr": [NON_NEGATIVE_REAL],
                              "mode": [Options(str, ("min", "max"))], "threshold": [NON_NEGATIVE_REAL],
                              "threshold_mode": [Options(str, ("rel", "abs"))], "cooldown": [NON_NEGATIVE_INT]}

    def __init__(self, learning_rate: float, factor: float = 0.1, patience: int = 10, min_lr: float = 0.0,
                 mode: str = "min", threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0):
        self._validate(locals())
        owner = "ReduceOnPlateau"
        self.learning_rate = _base_lr(owner, learning_rate)
        self.factor = _checks.real(owner, "factor", factor, low=0.0, high=1.0, high_open=True)
        self.patience = _checks.integer(owner, "patience", patience)
        self.min_lr = _checks.real(owner, "min_lr", min_lr, low=0.0)
        self.mode = _checks.choice(owner, "mode", mode, ("min", "max"))
        self.threshold = _checks.real(owner, "threshold", threshold, low=0.0)
        self.threshold_mode = _checks.choice(owner, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = _checks.integer(owner, "cooldown", cooldown)
        self._config = {"learning_rate": self.learning_rate, "factor": self.factor, "patience": self.patience,
                        "min_lr": self.min_lr, "mode": self.mode, "threshold": self.threshold,
                        "threshold_mode": self.threshold_mode, "cooldown": self.cooldown}
        self.learning_rate_now = self.learning_rate
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def __call__(self, step: int) -> float:
        return self.learning_rate_now

    def _improves(self, metric: float) -> bool:
        if self.mode == "min":
            bound = self.best * (1.0 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return metric < bound
        bound = self.best * (1.0 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return metric > bound

    def observe(self, metric: float) -> None:
        metric = float(metric)
        if self._improves(metric):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            reduced = max(self.learning_rate_now * self.factor, self.min_lr)
            if self.learning_rate_now - reduced > self._EPS:
                self.learning_rate_now = reduced
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def state_dict(self) -> dict:
        # ±inf (nothing observed yet) is stored as None: JSON has no infinity.
        return {"learning_rate_now": self.learning_rate_now,
                "best": self.best if math.isfinite(self.best) else None,
                "num_bad_epochs": self.num_bad_epochs, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: dict) -> None:
        owner = "ReduceOnPlateau.load_state_dict"
        _checks.exact_keys("ReduceOnPlateau", state, self.state_dict())
        lr = _checks.real(owner, "learning_rate_now", state["learning_rate_now"], low=0.0)
        best = state["best"]
        best = (math.inf if self.mode == "min" else -math.inf) if best is None else float(best)
        bad = _checks.integer(owner, "num_bad_epochs", state["num_bad_epochs"])
        cooling = _checks.integer(owner, "cooldown_counter", state["cooldown_counter"])
        self.learning_rate_now, self.best, self.num_bad_epochs, self.cooldown_counter = lr, best, bad, cooling
