"""One probe of a network on a batch: per-layer activations h_l, error signals δ_l and gradients.

``probe`` runs the model twice on the batch. The first run (plain NumPy) records h_l (or z_l)
at every step; the second differentiates the loss with respect to the parameters *and* to a
zero "tap" added to each recorded output, whose gradient is ∂L/∂(that output). For a layer
whose Dense step ran alone that is δ_l = ∂L/∂z_l directly; for a Dense fused with its
activation it is ∂L/∂h_l, and δ_l = ∂L/∂h_l ⊙ σ'(z_l) with σ' read off h_l (seed 004's
recursion δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ σ'(z_l)).

δ_l is the (batch, d_l) matrix of ∂L/∂z_l for the batch's loss as the loss reduces it: with a
mean over the batch each row carries a factor 1/batch. ‖δ_l‖ is its Frobenius norm.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..engine.core import Tracer
from ..engine.transforms import value_and_grad
from ..errors import ArgumentTypeError, ConfigError
from .layers import DERIVATIVE_FROM_OUTPUT, SATURATING, dense_layers, derivative_from_output, weight_gain

# A sigmoid/tanh unit counts as saturated where σ'(z) < SATURATION · max σ' (sigmoid: σ < 0.026
# or > 0.974; tanh: |tanh z| > 0.949), i.e. it passes on less than a tenth of its best signal.
SATURATION = 0.1


@dataclass
class LayerSignals:
    """What one probe saw in one Dense layer (norms are Frobenius norms, in float64).

    act_*: statistics of h_l over every (sample, unit) entry (of z_l for a layer with no
    activation); act_second_moment is E[h²], the quantity seed 002's Var(h) = dσ²/2 predicts.
    dead_fraction: ReLU units with h = 0 for every sample of the batch (None for other
    activations). saturated_fraction: sigmoid/tanh entries with σ'(z) < saturation · max σ'
    (None for other activations). gain: fan_in · E[W²] (2 for He; 1 for Xavier, square layer).
    """

    name: str
    activation: str
    act_mean: float
    act_std: float
    act_second_moment: float
    delta_norm: float
    grad_norm: float
    weight_norm: float
    gain: float
    dead_fraction: float | None
    saturated_fraction: float | None

    def as_dict(self):
        return asdict(self)


@dataclass
class Probe:
    loss: float
    layers: list  # LayerSignals, forward order
    grads: dict  # ∂L/∂θ for every parameter
    h: dict  # layer name -> h_l (batch, d_l)
    delta: dict  # layer name -> δ_l (batch, d_l)

    def column(self, field):
        """One statistic for every layer, as a list in forward order."""
        return [getattr(s, field) for s in self.layers]


class _TapShape(Exception):
    """A recorded output's shape is not (batch, d_out)."""


def _primal(a):
    while isinstance(a, Tracer):
        a = a.value
    return np.asarray(a)


def _norm(a):
    a = np.asarray(a, np.float64).ravel()
    return math.sqrt(float(np.dot(a, a)))


def probe(model, X, y, loss_fn, params=None, training=True, seed=0, saturation=SATURATION):
    """Run ``model`` on the batch (X, y) and measure every Dense layer (see ``LayerSignals``).

    loss_fn: ``(output, y) -> scalar``. training: run as in training (BatchNorm with batch
    statistics, dropout from a generator seeded by ``seed``); the model's buffers are read,
    never updated (``apply`` returns new running statistics only when asked). params: defaults to ``model.params``.
    """
    params = model.params if params is None else params
    if params is None:
        raise ConfigError("the model has no parameters yet: call model.init(seed) first")
    infos = dense_layers(model)

    def run(p, taps, seen):
        def record(name, a):
            if seen is not None:
                seen[name] = _primal(a)
            if taps is not None and name in taps:
                if np.shape(a) != taps[name].shape:
                    raise _TapShape
                return a + taps[name]
            return None

        rng = np.random.default_rng(seed)
        return loss_fn(model.apply(p, X, training=training, rng=rng, record=record), y)

    def differentiate(taps):
        seen.clear()
        return value_and_grad(lambda p, t: run(p, t, seen), argnums=(0, 1))(params, taps)

    # One differentiated run that also keeps the primal outputs; the taps' shapes are those of a
    # Dense layer's output on a 2-D batch, (batch, d_out). Where a model's differ, one plain run
    # first reads them.
    seen = {}
    try:
        loss, (grads, tap_grads) = differentiate(
            {i.out_step: np.zeros((len(X), i.d_out), np.result_type(params[i.name])) for i in infos})
        missing = [i.out_step for i in infos if i.out_step not in seen]
    except _TapShape:
        run(params, None, seen)
        missing = [i.out_step for i in infos if i.out_step not in seen]
        if not missing:
            loss, (grads, tap_grads) = differentiate({i.out_step: np.zeros_like(seen[i.out_step]) for i in infos})
    if missing:
        raise ArgumentTypeError(f"probe: the model never reported steps {missing}; is it a plain Sequential?")

    layers, hs, deltas = [], {}, {}
    for info in infos:
        g = np.asarray(tap_grads[info.out_step], np.float64)
        out = np.asarray(seen[info.out_step], np.float64)
        delta = g * derivative_from_output(info.activation, out, info.alpha) if info.fused else g
        h = np.asarray(seen[info.act_step], np.float64)
        hs[info.name], deltas[info.name] = h, delta
        dead = sat = None
        if info.activation == "relu":
            dead = float(np.mean(np.all(h <= 0, axis=0)))
        if info.activation in SATURATING and info.activation in DERIVATIVE_FROM_OUTPUT:
            slope = derivative_from_output(info.activation, h) / SATURATING[info.activation]
            sat = float(np.mean(slope < saturation))
        W = params[info.name]
        layers.append(LayerSignals(
            info.name, info.activation, float(np.mean(h)), float(np.std(h)), float(np.mean(h * h)),
            _norm(delta), _norm(grads[info.name]), _norm(W), weight_gain(W), dead, sat))
    return Probe(float(loss), layers, grads, hs, deltas)
