"""Declared argument constraints: each public class or function lists what its arguments may be in
one table, and ``validate`` checks a call against it (scikit-learn's ``_parameter_constraints``).

A table maps an argument name to a list of constraints; a value is accepted when it satisfies at
least one of them:

- ``None``: the value None;
- a class (``str``, ``Layer``, ``Mapping``): an instance of it;
- ``Interval(Integral | Real, low, high, closed=...)``: a number in the interval. ``Integral``
  accepts Python and NumPy integers, never ``bool`` and never a float such as 4.7 (refused, not
  truncated); ``Real`` accepts any non-bool real number and is always finite, so NaN fails
  every interval;
- ``Options(str, {...})``: one of the listed values;
- ``"boolean"``: ``True``/``False`` (or NumPy's), never the string ``"no"``;
- ``"callable"``, ``"array-like"`` (an ndarray, a number or a list/tuple of them);
- ``ListOf(constraint, min_len=..., types=(list, tuple))``: a list (or tuple) whose items all meet it.

A value whose *type* fits none of the constraints raises ``ArgumentTypeError`` (a TypeError); a
value of a fitting type outside the allowed values raises ``InvalidArgumentError`` (a ValueError).
The message reads ``Name(arg=...): expected X, got Y`` for a class and ``fn(arg): ...`` for a
function, with a shortened repr of the value. Validation belongs in constructors and entry points
only, never in a training step.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["Interval", "Options", "ListOf", "validate", "check", "where", "short_repr"]


def short_repr(value, limit=60):
    """``repr(value)`` cut to ``limit`` characters, on one line; arrays as their shape and dtype."""
    if isinstance(value, np.ndarray) and value.size > 8:
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def where(owner, name):
    """``Name(arg=...)`` for a class or ``fn(arg)`` for a function (the last dotted part decides)."""
    last = owner.rpartition(".")[2]
    return f"{owner}({name}=...)" if last[:1].isupper() else f"{owner}({name})"


class Interval:
    """Numbers of ``kind`` (``numbers.Integral`` or ``numbers.Real``) between ``low`` and ``high``
    (None: unbounded); ``closed`` is 'both', 'left', 'right' or 'neither'."""

    def __init__(self, kind, low, high, closed="both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def fits_type(self, v):
        if isinstance(v, bool | np.bool_):
            return False
        if self.kind is numbers.Integral:
            return isinstance(v, numbers.Integral)
        return isinstance(v, numbers.Real)

    def __call__(self, v):
        if not self.fits_type(v):
            return False
        if self.kind is numbers.Real and not math.isfinite(float(v)):
            return False
        if self.low is not None and (v < self.low or (v == self.low and self.closed in ("right", "neither"))):
            return False
        return not (self.high is not None and (v > self.high or (v == self.high and self.closed in ("left",
                                                                                                      "neither"))))

    def __str__(self):
        noun = "an int" if self.kind is numbers.Integral else "a finite real number"
        if self.low is None and self.high is None:
            return noun
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{noun} in {left}{low}, {high}{right}"


class Options:
    """One of ``values`` (all of type ``kind``)."""

    def __init__(self, kind, values):
        self.kind, self.values = kind, tuple(values)

    def fits_type(self, v):
        return isinstance(v, self.kind)

    def __call__(self, v):
        return isinstance(v, self.kind) and v in self.values

    def __str__(self):
        return "one of " + ", ".join(map(repr, self.values))


class ListOf:
    """A list (or another of ``types``) of at least ``min_len`` items, each meeting ``item``."""

    def __init__(self, item, min_len=0, types=(list, tuple)):
        self.item, self.min_len, self.types = _make(item), min_len, types

    def fits_type(self, v):
        return isinstance(v, self.types) and all(self.item.fits_type(x) for x in v)

    def __call__(self, v):
        return isinstance(v, self.types) and len(v) >= self.min_len and all(self.item(x) for x in v)

    def __str__(self):
        kinds = " or ".join(t.__name__ for t in self.types)
        size = f" of at least {self.min_len}" if self.min_len else ""
        return f"a {kinds}{size} items, each {self.item}"


class _InstanceOf:
    def __init__(self, cls):
        self.cls = cls

    def fits_type(self, v):
        return isinstance(v, self.cls)

    __call__ = fits_type

    def __str__(self):
        return "None" if self.cls is type(None) else f"a {self.cls.__name__}"


class _Boolean:
    fits_type = __call__ = staticmethod(lambda v: isinstance(v, bool | np.bool_))

    def __str__(self):
        return "a bool (True or False)"


class _Callable:
    fits_type = __call__ = staticmethod(callable)

    def __str__(self):
        return "a callable"


class _ArrayLike:
    @staticmethod
    def fits_type(v):
        if isinstance(v, np.ndarray | np.generic) or (isinstance(v, numbers.Number) and not isinstance(v, bool)):
            return True
        return isinstance(v, list | tuple)

    __call__ = fits_type

    def __str__(self):
        return "an array-like (ndarray, number or list)"


_NAMED = {"boolean": _Boolean(), "callable": _Callable(), "array-like": _ArrayLike()}


def _make(c):
    if c is None:
        return _InstanceOf(type(None))
    if isinstance(c, str):
        return _NAMED[c]
    if isinstance(c, type):
        return _InstanceOf(c)
    return c


def check(owner, name, value, constraints):
    """Raise unless ``value`` meets one of ``constraints`` (see the module docstring)."""
    made = [_make(c) for c in constraints]
    if any(c(value) for c in made):
        return value
    expected = " or ".join(map(str, made))
    message = f"{where(owner, name)}: expected {expected}, got {short_repr(value)}"
    if any(c.fits_type(value) for c in made):
        raise InvalidArgumentError(message)
    raise ArgumentTypeError(f"{message} ({type(value).__name__})")


def validate(owner, table, arguments):
    """Check every ``{name: value}`` of ``arguments`` against ``table[name]``."""
    for name, value in arguments.items():
        check(owner, name, value, table[name])


def is_count(x, low=0):
    """Whether ``x`` is an integer ≥ ``low``: a Python or NumPy integer, never a bool. For values
    checked one by one outside a table (a batch size as data, numbers read back from a JSON state)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= low


# Constraints many tables share.
POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
NON_NEGATIVE_INT = Interval(numbers.Integral, 0, None, closed="left")
POSITIVE_REAL = Interval(numbers.Real, 0, None, closed="neither")
NON_NEGATIVE_REAL = Interval(numbers.Real, 0, None, closed="left")
FINITE_REAL = Interval(numbers.Real, None, None)
PROBABILITY = Interval(numbers.Real, 0, 1, closed="both")
