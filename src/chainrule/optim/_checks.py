"""Hyperparameter validation: a one-line ConfigError naming the owner, the argument and the value.

Every accepted number is returned as a Python ``float``/``int``: NumPy treats Python scalars as
"weak", so ``float32_array * learning_rate`` stays float32, whereas an ``np.float64`` scalar would
silently compute in float64.
"""

from __future__ import annotations

import math
import numbers

from ..errors import ConfigError


def real(owner, name, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{owner}: {name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(f"{owner}: {name} must be finite, got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ConfigError(f"{owner}: {name} must be {'>' if low_open else '>='} {low}, got {v}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ConfigError(f"{owner}: {name} must be {'<' if high_open else '<='} {high}, got {v}")
    return v


def optional_positive(owner, name, value) -> float | None:
    return None if value is None else real(owner, name, value, low=0.0, low_open=True)


def integer(owner, name, value, *, low=0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{owner}: {name} must be an integer, got {value!r}")
    if value < low:
        raise ConfigError(f"{owner}: {name} must be >= {low}, got {value}")
    return int(value)


def choice(owner, name, value, options) -> str:
    if value not in options:
        raise ConfigError(f"{owner}: {name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def exact_keys(owner, state, expected) -> None:
    """A state dict must have exactly the expected keys: a partial load would not continue bit for bit."""
    keys = set(state)
    missing, extra = sorted(set(expected) - keys), sorted(keys - set(expected))
    if missing or extra:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
        raise ConfigError(f"{owner}.load_state_dict: state does not match: {'; '.join(parts)}")
