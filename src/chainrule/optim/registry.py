"""Optimizers and schedules by name, for config files and the CLI: ``get('adam', params, ...)``."""

from __future__ import annotations

import difflib
import inspect

from ..errors import ChainruleError, ConfigError
from .adaptive import Adagrad, Adam, AdamW, RMSProp
from .base import Optimizer
from .lbfgs import LBFGS
from .schedules import Constant, Cosine, Exponential, LinearWarmup, ReduceOnPlateau, Schedule, StepDecay
from .sgd import SGD


class UnknownArgumentError(ChainruleError, TypeError):
    """A keyword argument that the named optimizer or schedule does not take."""


# name -> (class, defaults that make the name what it says)
OPTIMIZERS = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (Adagrad, {}),
    "rmsprop": (RMSProp, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "lbfgs": (LBFGS, {}),
}

SCHEDULES = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": Exponential,
    "cosine": Cosine,
    "linear_warmup": LinearWarmup,
    "reduce_on_plateau": ReduceOnPlateau,
}

# Other names accepted for the same entries (not listed as choices).
ALIASES = {"gd": "sgd", "step_decay": "step", "warmup": "linear_warmup", "plateau": "reduce_on_plateau",
           "reduce_lr_on_plateau": "reduce_on_plateau", "cosine_annealing": "cosine"}

# Names other libraries use for the same arguments, suggested when one of them is given.
_OTHER_NAMES = {"lr": "learning_rate", "epsilon": "eps", "rho": "alpha", "beta_1": "betas", "beta_2": "betas",
                "clipnorm": "clip_norm", "clipvalue": "clip_value", "global_clipnorm": "clip_norm",
                "eta_min": "min_lr", "t_max": "total_steps", "decay_steps": "total_steps"}


def get(name: str, params, **kwargs) -> Optimizer:
    """The optimizer called ``name`` (one of OPTIMIZERS) over ``params``, e.g.
    ``get('adam', model_params, learning_rate=1e-3, weight_decay=1e-4)``.

    ``learning_rate`` may also be a schedule's config dict, e.g. ``{'name': 'cosine', 'learning_rate':
    0.1, 'total_steps': 1000}``. Unknown names raise ConfigError (a ValueError), unknown keyword
    arguments UnknownArgumentError (a TypeError); both list the valid choices.
    """
    cls, defaults = OPTIMIZERS[_lookup("optimizer", name, OPTIMIZERS)]
    _check_arguments(name, cls, kwargs, skip=("self", "params"))
    if isinstance(kwargs.get("learning_rate"), dict):
        kwargs["learning_rate"] = get_schedule(**kwargs["learning_rate"])
    return cls(params, **{**defaults, **kwargs})


def get_schedule(name: str, **kwargs) -> Schedule:
    """The schedule called ``name`` (one of SCHEDULES), e.g. ``get_schedule('step', learning_rate=0.1,
    step_size=100, gamma=0.5)``. LinearWarmup's ``then`` may be a config dict of another schedule;
    a ``learning_rate`` given beside it becomes that schedule's base rate when the dict has none."""
    cls = SCHEDULES[_lookup("schedule", name, SCHEDULES)]
    _check_arguments(name, cls, kwargs, skip=("self",))
    if isinstance(kwargs.get("then"), dict):
        then = dict(kwargs["then"])
        if "learning_rate" in kwargs and "learning_rate" not in then:
            then["learning_rate"] = kwargs.pop("learning_rate")  # the warmup's target is then's base rate
        kwargs["then"] = get_schedule(**then)
    missing = [p.name for p in inspect.signature(cls).parameters.values()
               if p.default is inspect.Parameter.empty and p.name not in kwargs]
    if missing:
        raise UnknownArgumentError(f"schedule {name!r} needs {', '.join(missing)}")
    return cls(**kwargs)


def _lookup(kind, name, table) -> str:
    key = str(name).lower()
    key = ALIASES.get(key, key)
    if key not in table:
        known = [*table, *(alias for alias, target in ALIASES.items() if target in table)]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {ALIASES.get(close[0], close[0])!r}?" if close else ""
        raise ConfigError(f"unknown {kind} {name!r}; valid names: {', '.join(table)}{hint}")
    return key


def _check_arguments(name, cls, kwargs, skip) -> None:
    valid = [p for p in inspect.signature(cls).parameters if p not in skip]
    for key in kwargs:
        if key not in valid:
            close = [_OTHER_NAMES[key]] if _OTHER_NAMES.get(key) in valid else \
                difflib.get_close_matches(key, valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownArgumentError(f"{name!r} got an unknown argument {key!r}; "
                                       f"valid arguments: {', '.join(valid)}{hint}")
