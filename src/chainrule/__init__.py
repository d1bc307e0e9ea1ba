"""chainrule: build, train, verify and understand feedforward neural networks.

The engine is reverse-mode automatic differentiation (backpropagation) with forward mode
beside it, over NumPy::

    import chainrule as cr
    import chainrule.numpy as cnp

    f = lambda x: cnp.sum(cnp.tanh(x) ** 2)
    cr.grad(f)(x)                # ∇f(x), reverse mode
    cr.jvp(f, (x,), (v,))        # f(x) and ∇f(x)·v, forward mode
    cr.check_grads(f, (x,))      # both checked against central differences
    cr.jit(cr.grad(f))(x)        # the same, compiled into straight-line NumPy code
"""

from . import data, nn, numpy, optim, train  # noqa: F401
from ._version import __version__  # noqa: F401  (in a module of its own: saving reads it)
from .engine.transforms import grad, hessian, hvp, jacfwd, jacrev, jvp, value_and_grad, vjp
from .errors import ChainruleError
from .gradcheck import GradCheckReport, check_grads
from .jit import jit
from .primitives.elementwise import stop_gradient
from .train import Trainer, fit

__all__ = [
    "ChainruleError",
    "Trainer",
    "data",
    "fit",
    "nn",
    "optim",
    "train",
    "GradCheckReport",
    "check_grads",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacrev",
    "jit",
    "jvp",
    "stop_gradient",
    "value_and_grad",
    "vjp",
]
