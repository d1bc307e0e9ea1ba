"""Weight initializers. Every one takes a NumPy Generator, so every init is seeded.

Weights have PyTorch's layout (d_out, d_in); fan_in = d_in, fan_out = d_out.

- Xavier/Glorot (Glorot & Bengio, 2010): Var(W) = 2 / (fan_in + fan_out), keeping the
  variance of activations *and* of gradients roughly constant for tanh/sigmoid networks.
- He/Kaiming (He et al., 2015): Var(W) = 2 / fan_in, which keeps Var(h) constant across
  ReLU layers (ReLU zeroes half the signal, the factor 2 puts it back). For leaky ReLU with
  slope α the gain is 2 / (1 + α²).
- LeCun (LeCun et al., 1998): Var(W) = 1 / fan_in.
A uniform U(−a, a) has variance a²/3, so the uniform forms use a = √(3·Var).

With parameters: ``normal(std, mean=0)``, ``uniform(a, b)`` and ``constant(value)``. ``get``
reads every spelling a config or a call may use: a name ('he_normal'), the call as a string
('uniform(-0.5, 0.5)', parsed by a regular expression, never evaluated), a dict
({'name': 'normal', 'std': 0.1}, or the short {'uniform': [-0.5, 0.5]}) or a callable.
"""

from __future__ import annotations

import math
import re

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


class Parametrized:
    """An initializer with parameters, e.g. ``uniform(-0.5, 0.5)``: callable like the others
    (rng, shape, dtype); ``str()`` is its spelling in a config, which ``get`` reads back."""

    def __init__(self, name, args, draw):
        self.name, self.args, self._draw = name, tuple(float(a) for a in args), draw

    def __call__(self, rng, shape, dtype=np.float64):
        return np.asarray(self._draw(rng, shape), np.float64).astype(dtype)

    def __repr__(self):
        return f"{self.name}({', '.join(_number(a) for a in self.args)})"

    def __eq__(self, other):
        return isinstance(other, Parametrized) and (self.name, self.args) == (other.name, other.args)

    def __hash__(self):
        return hash((self.name, self.args))


def constant(value):
    """Every entry equal to ``value``."""
    _check_finite("constant", value=value)
    return Parametrized("constant", (value,), lambda rng, shape: np.full(shape, float(value)))


def uniform(a=-0.05, b=0.05):
    """U(a, b): the lecture notes' vanishing-gradient lesson uses uniform(-0.5, 0.5)."""
    _check_finite("uniform", a=a, b=b)
    if not a < b:
        raise ConfigError(f"uniform(a, b) needs a < b, found a = {a!r}, b = {b!r}")
    return Parametrized("uniform", (a, b), lambda rng, shape: rng.uniform(a, b, size=shape))


def normal(std=0.01, mean=0.0):
    """N(mean, std²)."""
    _check_finite("normal", std=std, mean=mean)
    if std < 0:
        raise ConfigError(f"normal(std) needs std >= 0, found std = {std!r}")
    args = (std,) if mean == 0 else (std, mean)
    return Parametrized("normal", args, lambda rng, shape: mean + std * rng.standard_normal(shape))


def _check_finite(name, **values):
    for key, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) or not math.isfinite(v):
            raise ConfigError(f"{name}: {key} must be a finite number, found {v!r}")


def _number(x):
    return repr(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x)


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


# The initializers with parameters: name -> (maker, its parameters in order, how many are required).
PARAMETRIZED = {"normal": (normal, ("std", "mean"), 1), "uniform": (uniform, ("a", "b"), 2),
                "constant": (constant, ("value",), 1)}
SPELLINGS = ('"normal(std)"', '"normal(std, mean)"', '"uniform(a, b)"', '"constant(value)"',
             '{ name = "normal", std = 0.1 }')

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_CALL = re.compile(rf"\s*([A-Za-z_]\w*)\s*\(\s*((?:{_NUMBER}\s*(?:,\s*{_NUMBER}\s*)*)?)\)\s*")


def get(spec):
    """An initializer from a name ('he_normal'), a call ('uniform(-0.5, 0.5)', 'normal(0.1)'),
    a dict ({'name': 'normal', 'std': 0.1}, or the short {'uniform': [-0.5, 0.5]}) or a callable."""
    if callable(spec):
        return spec
    if isinstance(spec, dict):
        return _from_dict(spec)
    if not isinstance(spec, str):
        raise ConfigError(f"an initializer is a name, a string such as 'uniform(-0.5, 0.5)', a dict or a "
                          f"callable, found {type(spec).__name__}")
    if "(" in spec:
        return _from_call(spec)
    if spec in PARAMETRIZED:
        raise ConfigError(f"initializer {spec!r} needs its parameters: write {_spellings(spec)}")
    if spec not in INITIALIZERS:
        raise ConfigError(f"unknown initializer {spec!r}{did_you_mean(spec, [*INITIALIZERS, *PARAMETRIZED])}; "
                          f"valid: {', '.join(INITIALIZERS)}, or with parameters {', '.join(SPELLINGS)}")
    return INITIALIZERS[spec]


def _spellings(name):
    return " or ".join(s for s in SPELLINGS if s.startswith(f'"{name}('))


def _from_call(text):
    m = _CALL.fullmatch(text.replace("\u2212", "-"))  # a minus sign copied from typeset notes
    if m is None:
        raise ConfigError(f"cannot read initializer {text!r}; write one of {', '.join(SPELLINGS)}")
    name, args = m.group(1), [float(a) for a in m.group(2).split(",") if a.strip()]
    if name in INITIALIZERS:
        raise ConfigError(f"initializer {text!r}: {name} takes no parameters; write {name!r}")
    if name not in PARAMETRIZED:
        hint = did_you_mean(name, PARAMETRIZED)
        raise ConfigError(f"unknown initializer {name!r} in {text!r}{hint}; with parameters: "
                          f"{', '.join(SPELLINGS)}")
    maker, names, required = PARAMETRIZED[name]
    if not required <= len(args) <= len(names):
        raise ConfigError(f"initializer {text!r}: {name} takes {_count(required, len(names))} number(s), "
                          f"found {len(args)}; write {_spellings(name)}")
    return maker(*args)


def _from_dict(spec):
    if "name" not in spec and len(spec) == 1:  # the short form {'uniform': [-0.5, 0.5]}
        (name, arg), = spec.items()
        if name in PARAMETRIZED:
            args, names = (list(arg) if isinstance(arg, list | tuple) else [arg]), PARAMETRIZED[name][1]
            if len(args) > len(names):
                raise ConfigError(f"initializer {spec!r}: {name} takes at most {len(names)} number(s) "
                                  f"({', '.join(names)}), found {len(args)}")
            spec = {"name": name, **dict(zip(names, args, strict=False))}
    name = spec.get("name")
    if not isinstance(name, str):
        raise ConfigError(f"an initializer dict needs a name, e.g. {{'name': 'normal', 'std': 0.1}}, found {spec!r}")
    options = {k: v for k, v in spec.items() if k != "name"}
    if name not in PARAMETRIZED:
        if options:
            raise ConfigError(f"initializer {name!r} takes no parameters, found {', '.join(map(str, options))}")
        return get(name)
    maker, names, required = PARAMETRIZED[name]
    unknown = [k for k in options if k not in names]
    missing = [k for k in names[:required] if k not in options]
    if unknown or missing:
        found = f"unknown {', '.join(map(repr, unknown))}" if unknown else f"missing {', '.join(missing)}"
        raise ConfigError(f"initializer {name!r} takes {', '.join(names)} ({found}), e.g. "
                          f"{{'name': {name!r}, {', '.join(f'{k!r}: ...' for k in names[:required])}}}")
    return maker(**options)


def _count(low, high):
    return str(low) if low == high else f"{low} or {high}"
