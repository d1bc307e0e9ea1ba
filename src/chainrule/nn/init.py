"""Weight initializers. Every one takes a NumPy Generator, so every init is seeded.

Weights have PyTorch's layout (d_out, d_in); fan_in = d_in, fan_out = d_out.

- Xavier/Glorot (Glorot & Bengio, 2010): Var(W) = 2 / (fan_in + fan_out), keeping the
  variance of activations *and* of gradients roughly constant for tanh/sigmoid networks.
- He/Kaiming (He et al., 2015): Var(W) = 2 / fan_in, which keeps Var(h) constant across
  ReLU layers (ReLU zeroes half the signal, the factor 2 puts it back). For leaky ReLU with
  slope α the gain is 2 / (1 + α²).
- LeCun (LeCun et al., 1998): Var(W) = 1 / fan_in.
A uniform U(−a, a) has variance a²/3, so the uniform forms use a = √(3·Var).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, did_you_mean


def _normal(rng, shape, var, dtype):
    return (rng.standard_normal(shape) * math.sqrt(var)).astype(dtype)


def _uniform(rng, shape, var, dtype):
    a = math.sqrt(3 * var)
    return rng.uniform(-a, a, size=shape).astype(dtype)


def xavier_normal(rng, shape, dtype=np.float64, gain=1.0):
    fan_out, fan_in = shape
    return _normal(rng, shape, gain**2 * 2.0 / (fan_in + fan_out), dtype)


def xavier_uniform(rng, shape, dtype=np.float64, gain=1.0):
    fan_out, fan_in = shape
    return _uniform(rng, shape, gain**2 * 2.0 / (fan_in + fan_out), dtype)


def he_normal(rng, shape, dtype=np.float64, alpha=0.0):
    return _normal(rng, shape, 2.0 / (1 + alpha**2) / shape[1], dtype)


def he_uniform(rng, shape, dtype=np.float64, alpha=0.0):
    return _uniform(rng, shape, 2.0 / (1 + alpha**2) / shape[1], dtype)


def lecun_normal(rng, shape, dtype=np.float64):
    return _normal(rng, shape, 1.0 / shape[1], dtype)


def lecun_uniform(rng, shape, dtype=np.float64):
    return _uniform(rng, shape, 1.0 / shape[1], dtype)


def torch_default(rng, shape, dtype=np.float64):
    """PyTorch's nn.Linear default: U(−1/√fan_in, 1/√fan_in), i.e. Var = 1/(3 fan_in)."""
    return _uniform(rng, shape, 1.0 / (3 * shape[1]), dtype)


def zeros(rng, shape, dtype=np.float64):
    return np.zeros(shape, dtype)


def ones(rng, shape, dtype=np.float64):
    return np.ones(shape, dtype)


def constant(value):
    def init(rng, shape, dtype=np.float64):
        return np.full(shape, value, dtype)

    return init


def uniform(a=-0.05, b=0.05):
    """U(a, b) — seed 003's 'naive' init is uniform(-0.5, 0.5)."""

    def init(rng, shape, dtype=np.float64):
        return rng.uniform(a, b, size=shape).astype(dtype)

    return init


def normal(std=0.01, mean=0.0):
    def init(rng, shape, dtype=np.float64):
        return (mean + std * rng.standard_normal(shape)).astype(dtype)

    return init


INITIALIZERS = {
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "torch_default": torch_default,
    "zeros": zeros,
    "ones": ones,
}


def default_for(activation):
    """He for the ReLU family, Xavier for everything else (tanh, sigmoid, identity...)."""
    from .activations import RELU_FAMILY

    return "he_normal" if activation in RELU_FAMILY else "xavier_normal"


def get(spec):
    """An initializer from a name ('he_normal'), a dict ({'uniform': [-0.5, 0.5]}) or a callable."""
    if callable(spec):
        return spec
    if isinstance(spec, dict) and len(spec) == 1:
        (name, arg), = spec.items()
        makers = {"uniform": uniform, "normal": normal, "constant": constant}
        if name in makers:
            return makers[name](*arg) if isinstance(arg, list | tuple) else makers[name](arg)
        spec = name
    if spec not in INITIALIZERS:
        valid = list(INITIALIZERS) + ["uniform(a, b)", "normal(std)", "constant(v)"]
        hint = did_you_mean(spec, INITIALIZERS)
        raise ConfigError(f"unknown initializer {spec!r}{hint}; valid: {', '.join(valid)}")
    return INITIALIZERS[spec]
