"""Optimizers with a per-coordinate step size from running gradient statistics: Adagrad, RMSProp, Adam, AdamW.

In every formula g is the gradient after clipping and penalties (see ``base``), η the learning
rate, t the step number (1 for the first step), and products, squares, square roots and
divisions are elementwise. Each rule follows torch.optim's arithmetic, so float64 runs agree with
it to rounding.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..constraints import NON_NEGATIVE_REAL, PROBABILITY, Interval, ListOf
from ..errors import ConfigError
from . import _checks
from .base import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011).

        s ← s + g²                      (s starts at initial_accumulator_value)
        w ← w − η g / (√s + ε)

    State: 'sum/<param>' (s).
    """

    name = "adagrad"
    state_names = ("sum",)
    _parameter_constraints = {**Optimizer._parameter_constraints, "eps": [NON_NEGATIVE_REAL],
                              "initial_accumulator_value": [NON_NEGATIVE_REAL]}

    def __init__(self, params, learning_rate=0.01, *, eps=1e-10, initial_accumulator_value=0.0,
                 weight_decay=0.0, l1=0.0, clip_norm=None, clip_value=None):
        self._validate(locals())
        self.eps = _checks.real("Adagrad", "eps", eps, low=0.0)
        self.initial_accumulator_value = _checks.real(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value, low=0.0)
        super().__init__(params, learning_rate, weight_decay=weight_decay, l1=l1,
                         clip_norm=clip_norm, clip_value=clip_value)
        for slot in self._slots:
            slot.state[0].fill(self.initial_accumulator_value)

    def _options(self):
        return {"eps": self.eps, "initial_accumulator_value": self.initial_accumulator_value}

    def _update(self, slot, g, lr):
        w, tmp, (s,) = slot.param, slot.tmp, slot.state
        np.multiply(g, g, out=tmp)
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        w -= tmp


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton 2012, Coursera lecture 6.5); centered form: Graves 2013.

        v ← α v + (1 − α) g²
        centered:  ḡ ← α ḡ + (1 − α) g,   d = √(v − ḡ²) + ε
        otherwise: d = √v + ε
        momentum μ > 0:  b ← μ b + g / d;  w ← w − η b
        μ = 0:           w ← w − η g / d

    State: 'square_avg/<param>' (v), 'grad_avg/<param>' (ḡ, centered), 'momentum/<param>' (b, μ > 0).
    Defaults as torch.optim.RMSprop (α = 0.99, ε = 1e-8, η = 0.01).
    """

    name = "rmsprop"
    _parameter_constraints = {**Optimizer._parameter_constraints, "alpha": [PROBABILITY], "eps": [NON_NEGATIVE_REAL],
                              "momentum": [NON_NEGATIVE_REAL], "centered": ["boolean"]}

    def __init__(self, params, learning_rate=0.01, *, alpha=0.99, eps=1e-8, momentum=0.0, centered=False,
                 weight_decay=0.0, l1=0.0, clip_norm=None, clip_value=None):
        self._validate(locals())
        self.alpha = _checks.real("RMSProp", "alpha", alpha, low=0.0, high=1.0)
        self.eps = _checks.real("RMSProp", "eps", eps, low=0.0)
        self.momentum = _checks.real("RMSProp", "momentum", momentum, low=0.0)
        self.centered = bool(centered)
        self.state_names = ("square_avg",) + (("grad_avg",) if self.centered else ()) + \
            (("momentum",) if self.momentum else ())
        super().__init__(params, learning_rate, weight_decay=weight_decay, l1=l1,
                         clip_norm=clip_norm, clip_value=clip_value)

    def _options(self):
        return {"alpha": self.alpha, "eps": self.eps, "momentum": self.momentum, "centered": self.centered}

    def _update(self, slot, g, lr):
        w, tmp, state = slot.param, slot.tmp, slot.state
        v = state[0]
        one_minus_alpha = 1.0 - self.alpha
        v *= self.alpha
        np.multiply(g, g, out=tmp)
        tmp *= one_minus_alpha
        v += tmp
        if self.centered:
            g_avg = state[1]
            np.subtract(g, g_avg, out=tmp)  # ḡ + (1 − α)(g − ḡ): torch's lerp form of the average
            tmp *= one_minus_alpha
            g_avg += tmp
            np.multiply(g_avg, g_avg, out=tmp)
            np.subtract(v, tmp, out=tmp)
            np.maximum(tmp, 0.0, out=tmp)  # v ≥ ḡ² in exact arithmetic; keep rounding from giving a NaN
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        if self.momentum:
            b = state[-1]
            b *= self.momentum
            b += tmp
            np.multiply(b, lr, out=tmp)
        else:
            tmp *= lr
        w -= tmp


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1); AMSGrad (Reddi, Kale & Kumar 2018).

        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ),       v̂ = v / (1 − β₂ᵗ)      (amsgrad: v̂ = max over steps of v, / (1 − β₂ᵗ))
        w ← w − η m̂ / (√v̂ + ε)

    ``weight_decay`` is L2 added to the gradient (torch.optim.Adam); for decoupled decay use AdamW.
    State: 'm/<param>', 'v/<param>', and 'v_max/<param>' with amsgrad.
    """

    name = "adam"
    _parameter_constraints = {**Optimizer._parameter_constraints, "eps": [NON_NEGATIVE_REAL], "amsgrad": ["boolean"],
                              "betas": [ListOf(Interval(numbers.Real, 0, 1, closed="left"), min_len=2)]}

    def __init__(self, params, learning_rate=1e-3, *, betas=(0.9, 0.999), eps=1e-8, amsgrad=False,
                 weight_decay=0.0, l1=0.0, clip_norm=None, clip_value=None):
        self._validate(locals())
        owner = type(self).__name__
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ConfigError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(_checks.real(owner, f"betas[{i}]", b, low=0.0, high=1.0, high_open=True)
                           for i, b in enumerate(betas))
        self.eps = _checks.real(owner, "eps", eps, low=0.0)
        self.amsgrad = bool(amsgrad)
        self.state_names = ("m", "v", "v_max") if self.amsgrad else ("m", "v")
        super().__init__(params, learning_rate, weight_decay=weight_decay, l1=l1,
                         clip_norm=clip_norm, clip_value=clip_value)

    def _options(self):
        return {"betas": list(self.betas), "eps": self.eps, "amsgrad": self.amsgrad}

    def _prepare(self, lr):
        beta1, beta2 = self.betas
        t = self.step_count
        sqrt_bias_correction2 = math.sqrt(1.0 - beta2**t)
        # Kingma & Ba's own cheaper order of computation (end of their §2), one pass fewer:
        # η m̂ / (√v̂ + ε) = α_t m / (√v + ε̂) with α_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ), ε̂ = ε √(1 − β₂ᵗ).
        self._alpha_t = lr * sqrt_bias_correction2 / (1.0 - beta1**t)
        self._eps_hat = self.eps * sqrt_bias_correction2
        self._decay = 1.0 - lr * self.weight_decay if self._decoupled_weight_decay else 1.0

    def _update(self, slot, g, lr):
        w, tmp, state = slot.param, slot.tmp, slot.state
        m, v = state[0], state[1]
        beta1, beta2 = self.betas
        if self._decay != 1.0:  # AdamW's decoupled decay, before the Adam step as in torch
            w *= self._decay
        np.subtract(g, m, out=tmp)  # m + (1 − β₁)(g − m) = β₁ m + (1 − β₁) g, torch's lerp form
        tmp *= 1.0 - beta1
        m += tmp
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp
        if self.amsgrad:
            np.maximum(state[2], v, out=state[2])
            v = state[2]
        np.sqrt(v, out=tmp)
        tmp += self._eps_hat
        np.divide(m, tmp, out=tmp)
        tmp *= self._alpha_t
        w -= tmp


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2, as torch.optim.AdamW).

        w ← w · (1 − η λ)   (λ = weight_decay, applied before the Adam update, not through g)
        then the Adam update of w with g.

    ``l1``, if set, is still added to the gradient. Default λ = 0.01 as in torch.
    """

    name = "adamw"
    _decoupled_weight_decay = True

    def __init__(self, params, learning_rate=1e-3, *, betas=(0.9, 0.999), eps=1e-8, amsgrad=False,
                 weight_decay=0.01, l1=0.0, clip_norm=None, clip_value=None):
        super().__init__(params, learning_rate, betas=betas, eps=eps, amsgrad=amsgrad,
                         weight_decay=weight_decay, l1=l1, clip_norm=clip_norm, clip_value=clip_value)
