"""Stochastic gradient descent, plain or with heavy-ball / Nesterov momentum."""

from __future__ import annotations

import numpy as np

from ..constraints import NON_NEGATIVE_REAL, PROBABILITY
from ..errors import ConfigError
from . import _checks
from .base import Optimizer


class SGD(Optimizer):
    """Gradient descent: Robbins & Monro 1951; momentum: Polyak 1964; Nesterov 1983 in the form of
    Sutskever et al. 2013. Semantics of torch.optim.SGD.

    With g the gradient after clipping and penalties, η = learning_rate, μ = momentum,
    τ = dampening:

        plain (μ = 0):      w ← w − η g
        heavy ball:         b ← g at the first step, b ← μ b + (1 − τ) g afterwards;  w ← w − η b
        nesterov=True:      same b;  w ← w − η (g + μ b)

    ``chainrule.optim.get('momentum', ...)`` and ``get('nesterov', ...)`` give SGD with μ = 0.9.
    State: 'momentum/<param>' (b), only when μ > 0.
    """

    name = "sgd"
    _parameter_constraints = {**Optimizer._parameter_constraints, "momentum": [NON_NEGATIVE_REAL],
                              "dampening": [PROBABILITY], "nesterov": ["boolean"]}

    def __init__(self, params, learning_rate=0.01, *, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, l1=0.0, clip_norm=None, clip_value=None):
        self._validate(locals())
        self.momentum = _checks.real("SGD", "momentum", momentum, low=0.0)
        self.dampening = _checks.real("SGD", "dampening", dampening, low=0.0, high=1.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ConfigError("SGD: nesterov=True needs momentum > 0 and dampening = 0, "
                              f"got momentum={self.momentum}, dampening={self.dampening}")
        self.state_names = ("momentum",) if self.momentum else ()
        super().__init__(params, learning_rate, weight_decay=weight_decay, l1=l1,
                         clip_norm=clip_norm, clip_value=clip_value)

    def _options(self):
        return {"momentum": self.momentum, "dampening": self.dampening, "nesterov": self.nesterov}

    def _step(self, grads):
        if self.momentum or self._preprocess:
            super()._step(grads)
            return
        # Plain SGD, the common case of small experiments: w ← w − η g as one tight loop.
        lr = self.learning_rate_now
        self.step_count += 1
        multiply, subtract = np.multiply, np.subtract
        rates = {}  # η as a 0-d array of each parameter's dtype: the same product as the Python float
        for slot in self._slots:  # (cast to that dtype), without converting it again for each array
            w, tmp = slot.param, slot.tmp
            rate = rates.get(w.dtype)
            if rate is None:
                rate = rates[w.dtype] = np.asarray(lr, w.dtype)
            multiply(grads[slot.name], rate, out=tmp)
            subtract(w, tmp, out=w)

    def _update(self, slot, g, lr):
        w, tmp = slot.param, slot.tmp
        mu = self.momentum
        if mu:
            b = slot.state[0]
            if self.step_count == 1:
                np.copyto(b, g)
            else:
                b *= mu
                if self.dampening:
                    np.multiply(g, 1.0 - self.dampening, out=tmp)
                    b += tmp
                else:
                    b += g
            if self.nesterov:
                np.multiply(b, mu, out=tmp)
                tmp += g
                g = tmp
            else:
                g = b
        np.multiply(g, lr, out=tmp)
        w -= tmp
