"""Optimizers, learning-rate schedules and gradient clipping.

::

    opt = chainrule.optim.Adam(params, learning_rate=1e-3)   # params: {name: float array}
    opt.step(grads)                                           # updates the arrays of params in place
    opt = chainrule.optim.get("adam", params, learning_rate=Cosine(1e-3, total_steps=1000))

Modules: ``base`` (the shared step: clipping, then penalties, then the rule), ``sgd`` (SGD,
momentum, Nesterov), ``adaptive`` (Adagrad, RMSProp, Adam, AdamW), ``lbfgs`` (L-BFGS),
``schedules``, ``clipping``, ``registry`` (by name, for configs).
"""

from .adaptive import Adagrad, Adam, AdamW, RMSProp
from .base import Optimizer, ParameterMismatchError
from .clipping import clip_by_global_norm, clip_by_value, global_norm
from .lbfgs import LBFGS
from .registry import OPTIMIZERS, SCHEDULES, UnknownArgumentError, get, get_schedule
from .schedules import Constant, Cosine, Exponential, LinearWarmup, ReduceOnPlateau, Schedule, StepDecay
from .sgd import SGD

__all__ = [
    "LBFGS", "OPTIMIZERS", "SCHEDULES", "SGD", "Adagrad", "Adam", "AdamW", "Constant", "Cosine", "Exponential",
    "LinearWarmup", "Optimizer", "ParameterMismatchError", "RMSProp", "ReduceOnPlateau", "Schedule",
    "StepDecay", "UnknownArgumentError", "clip_by_global_norm", "clip_by_value", "get", "get_schedule",
    "global_norm",
]
