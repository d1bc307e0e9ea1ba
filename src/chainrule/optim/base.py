"""The shape every optimizer shares: state made up front, one in-place update per parameter, a step count.

``opt = Optimizer(params, learning_rate, ...)`` keeps a reference to the arrays of ``params``
(a dict {name: float32/float64 array}, e.g. ``{'0.weight': (out, in), '0.bias': (out,)}``) and
``opt.step(grads)`` updates those arrays in place, from ``grads`` with the same names, shapes and
dtypes. The caller's gradient arrays are never modified.

Each step transforms the gradient in a fixed order, then applies the optimizer's rule:

1. clipping of the raw gradient: g ← g · min(1, clip_norm / ‖g‖) with ‖g‖ the global norm over
   all parameters, then g ← clip(g, −clip_value, clip_value);
2. penalties: g ← g + weight_decay · w + l1 · sign(w)  (the gradients of weight_decay/2 · ‖w‖² and
   l1 · ‖w‖₁, with sign(0) = 0 as subgradient; torch's ``weight_decay`` convention). AdamW instead
   decouples its weight decay from the gradient (its docstring says where it applies);
3. the update rule, with the learning rate lr = schedule(step_count) when a Schedule was given.

Float32 parameters stay float32 throughout: every scalar is a Python float, which NumPy casts to
the array's dtype. All buffers are allocated in ``__init__``; a step allocates no arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..constraints import NON_NEGATIVE_REAL, POSITIVE_REAL, validate
from ..errors import ChainruleError, ConfigError, ShapeError
from . import _checks
from .clipping import global_norm, norm_scale
from .schedules import Schedule


class ParameterMismatchError(ChainruleError, ValueError):
    """``grads`` (or a saved state) does not name the same parameters as the optimizer."""


class _Slot:
    """One parameter with its buffers: built once so a step is a single loop without dict lookups."""

    __slots__ = ("name", "param", "state", "work", "tmp")

    def __init__(self, name, param, state, work, tmp):
        self.name, self.param, self.state, self.work, self.tmp = name, param, state, work, tmp


class Optimizer:
    """Base class. Subclasses set ``name`` and ``state_names`` and define ``_update(slot, g, lr)``.

    Attributes: ``params`` (the dict given), ``step_count`` (steps taken), ``learning_rate`` (the
    float or Schedule given; assignable), ``learning_rate_now`` (the rate the next step will use),
    ``schedule`` (the Schedule, or None for a fixed rate). A trainer calls
    ``opt.schedule.observe(metric)`` once per epoch when ``opt.schedule`` is not None (only
    ReduceOnPlateau acts on it).
    """

    name = ""
    state_names: tuple[str, ...] = ()  # per-parameter buffers, saved as '<state name>/<param name>'
    _decoupled_weight_decay = False
    # What each constructor argument may be (``chainrule.constraints``); a subclass extends it.
    _parameter_constraints = {"learning_rate": [POSITIVE_REAL, Schedule], "weight_decay": [NON_NEGATIVE_REAL],
                              "l1": [NON_NEGATIVE_REAL], "clip_norm": [None, POSITIVE_REAL],
                              "clip_value": [None, POSITIVE_REAL]}

    def __init__(self, params, learning_rate, *, weight_decay=0.0, l1=0.0, clip_norm=None, clip_value=None):
        owner = type(self).__name__
        self._validate(locals())
        self.params = _check_params(owner, params)
        self.learning_rate = learning_rate
        self.weight_decay = _checks.real(owner, "weight_decay", weight_decay, low=0.0)
        self.l1 = _checks.real(owner, "l1", l1, low=0.0)
        self.clip_norm = _checks.optional_positive(owner, "clip_norm", clip_norm)
        self.clip_value = _checks.optional_positive(owner, "clip_value", clip_value)
        self._l2 = 0.0 if self._decoupled_weight_decay else self.weight_decay
        self._preprocess = bool(self.clip_norm or self.clip_value or self._l2 or self.l1)
        self._name_set = frozenset(self.params)
        self._slots = [
            _Slot(name, p, [np.zeros_like(p) for _ in self.state_names],
                  np.empty_like(p) if self._preprocess else None, np.empty_like(p))
            for name, p in self.params.items()
        ]
        self.step_count = 0

    def _validate(self, arguments):
        """Check the constructor's arguments (its ``locals()``) against the class's table."""
        table = self._parameter_constraints
        validate(type(self).__name__, table, {k: arguments[k] for k in table if k in arguments})

    # -- the learning rate -------------------------------------------------------------------------
    @property
    def learning_rate(self):
        return self._schedule if self._schedule is not None else self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, Schedule):
            self._schedule, self._lr = value, None
        else:
            self._lr = _checks.real(type(self).__name__, "learning_rate", value, low=0.0)
            self._schedule = None

    @property
    def schedule(self) -> Schedule | None:
        return self._schedule

    @property
    def learning_rate_now(self) -> float:
        return self._lr if self._schedule is None else float(self._schedule(self.step_count))

    # -- a step ------------------------------------------------------------------------------------
    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Update every parameter in place from ``grads`` ({name: array shaped like the parameter})."""
        self._check_grads(grads)
        self._step(grads)

    def _step(self, grads: Mapping[str, np.ndarray]) -> None:
        """``step`` without checking ``grads``: for gradients the engine computed from ``self.params``
        (the Trainer's), whose names, shapes and dtypes match by construction."""
        lr = self.learning_rate_now
        self.step_count += 1
        self._prepare(lr)
        update = self._update
        if self._preprocess:
            scale = self._clip_scale(grads)
            for slot in self._slots:
                update(slot, self._effective_grad(slot, grads[slot.name], scale), lr)
        else:
            for slot in self._slots:
                update(slot, grads[slot.name], lr)

    def _prepare(self, lr: float) -> None:
        """Per-step scalars (bias corrections, decay factors), computed once before the loop."""

    def _update(self, slot: _Slot, g: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def _clip_scale(self, grads) -> float:
        if self.clip_norm is None:
            return 1.0
        return norm_scale(global_norm(grads[slot.name] for slot in self._slots), self.clip_norm)

    def _effective_grad(self, slot: _Slot, g: np.ndarray, scale: float) -> np.ndarray:
        """Clipping then penalties, written into ``slot.work`` (``g`` itself is only read)."""
        work, tmp, w = slot.work, slot.tmp, slot.param
        if scale != 1.0:
            np.multiply(g, scale, out=work)
            g = work
        if self.clip_value is not None:
            np.clip(g, -self.clip_value, self.clip_value, out=work)
            g = work
        if self._l2:
            np.multiply(w, self._l2, out=tmp)
            np.add(g, tmp, out=work)
            g = work
        if self.l1:
            np.sign(w, out=tmp)
            tmp *= self.l1
            np.add(g, tmp, out=work)
            g = work
        return g

    def _check_grads(self, grads) -> None:
        # Everything is checked before any parameter changes, so a bad call leaves the model intact.
        owner = f"{type(self).__name__}.step"
        if not isinstance(grads, Mapping):
            raise ParameterMismatchError(f"{owner}: grads must be a dict {{name: array}}, got {type(grads).__name__}")
        if grads.keys() != self._name_set:
            raise ParameterMismatchError(f"{owner}: grads {_key_difference(grads, self._name_set)}")
        for slot in self._slots:
            g, p = grads[slot.name], slot.param
            if not isinstance(g, np.ndarray | np.generic) or g.shape != p.shape or g.dtype != p.dtype:
                raise _bad_array(owner, "gradient", slot.name, g, p)

    # -- saving and restoring ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Flat {key: JSON-able scalar or numpy array}: 'type', 'step_count', the optimizer's buffers
        (copies; '<state>/<param>' for per-parameter state) and 'schedule/<key>' for a stateful schedule."""
        state = {"type": type(self).__name__, "step_count": self.step_count, **self._scalars()}
        state.update((key, buffer.copy()) for key, buffer in self._buffers())
        if self._schedule is not None:
            state.update({f"schedule/{k}": v for k, v in self._schedule.state_dict().items()})
        return state

    def load_state_dict(self, state: Mapping) -> None:
        """Restore a ``state_dict()`` exactly: continuing gives the same numbers bit for bit.

        Everything is checked before anything changes, so a bad state leaves the optimizer as it was."""
        owner = type(self).__name__
        _checks.exact_keys(owner, state, self.state_dict())
        if state["type"] != owner:
            raise ConfigError(f"{owner}.load_state_dict: the state was saved by {state['type']}")
        step_count = _checks.integer(f"{owner}.load_state_dict", "step_count", state["step_count"])
        scalars = self._parse_scalars(state)
        arrays = []
        for key, buffer in self._buffers():
            saved = np.asarray(state[key])
            if saved.shape != buffer.shape or not np.can_cast(saved.dtype, buffer.dtype, "same_kind"):
                raise _bad_array(f"{owner}.load_state_dict", "state", key, saved, buffer)
            arrays.append((buffer, saved))
        if self._schedule is not None:
            self._schedule.load_state_dict({k[len("schedule/"):]: v for k, v in state.items()
                                            if k.startswith("schedule/")})
        for buffer, saved in arrays:
            np.copyto(buffer, saved, casting="same_kind")
        for attribute, value in scalars.items():
            setattr(self, attribute, value)
        self.step_count = step_count

    def _buffers(self):
        """(key, array) pairs of the state, in a fixed order."""
        for slot in self._slots:
            for state_name, buffer in zip(self.state_names, slot.state, strict=True):
                yield f"{state_name}/{slot.name}", buffer

    def _scalars(self) -> dict:
        """Extra scalar state (JSON-able), saved under these keys."""
        return {}

    def _parse_scalars(self, state) -> dict:
        """Validate the extra scalars of a saved state; returns {attribute: value} to set."""
        return {}

    def config(self) -> dict:
        """JSON-able hyperparameters; ``chainrule.optim.get(params=..., **config)`` rebuilds the optimizer."""
        lr = self._schedule.config() if self._schedule is not None else self._lr
        common = {"weight_decay": self.weight_decay, "l1": self.l1,
                  "clip_norm": self.clip_norm, "clip_value": self.clip_value}
        return {"name": self.name, "learning_rate": lr, **self._options(), **common}

    def _options(self) -> dict:
        return {}

    def __repr__(self) -> str:
        config = self.config()
        del config["name"]
        return f"{type(self).__name__}({len(self._slots)} parameters, " + \
            ", ".join(f"{k}={v!r}" for k, v in config.items()) + ")"


def _check_params(owner, params) -> dict:
    if not isinstance(params, Mapping) or not params:
        raise ConfigError(f"{owner}: params must be a non-empty dict {{name: array}}, got {params!r:.80}")
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype not in (np.float32, np.float64):
            kind = f"array of {p.dtype}" if isinstance(p, np.ndarray) else type(p).__name__
            raise ConfigError(f"{owner}: parameter {name!r} must be a float32 or float64 numpy array, got {kind}")
        if not p.flags.writeable:
            raise ConfigError(f"{owner}: parameter {name!r} is read-only; the optimizer updates it in place")
    return params


def _key_difference(given, expected) -> str:
    missing = [k for k in expected if k not in given]
    extra = [k for k in given if k not in expected]
    parts = ([f"are missing {sorted(missing)}"] if missing else []) + \
        ([f"have unknown names {sorted(map(str, extra))}"] if extra else [])
    return " and ".join(parts) + f" (parameters: {', '.join(sorted(expected))})"


def _bad_array(owner, what, name, value, like) -> ChainruleError:
    """The error for an array that does not fit: names the owner, the array and both shapes (or dtypes)."""
    holder = "the parameter" if what == "gradient" else "the optimizer's buffer"
    if not isinstance(value, np.ndarray | np.generic):
        return ParameterMismatchError(
            f"{owner}: {what} for {name!r} must be a numpy array, got {type(value).__name__}")
    if value.shape != like.shape:
        return ShapeError(f"{owner}: {what} for {name!r} has shape {value.shape} but {holder} has shape {like.shape}")
    return ParameterMismatchError(
        f"{owner}: {what} for {name!r} has dtype {value.dtype} but {holder} has dtype {like.dtype}")
