"""chainrule.constraints itself: what each kind of constraint accepts, and the two error types."""

import math
import numbers

import numpy as np
import pytest

from chainrule.constraints import POSITIVE_INT, PROBABILITY, Interval, ListOf, Options, check, short_repr
from chainrule.errors import ArgumentTypeError, ConfigError, InvalidArgumentError

REAL_01_OPEN = Interval(numbers.Real, 0, 1, closed="left")


@pytest.mark.parametrize("constraints, value", [
    ([POSITIVE_INT], 3), ([POSITIVE_INT], np.int64(3)), ([PROBABILITY], 0), ([PROBABILITY], 1.0),
    ([REAL_01_OPEN], 0.0), ([None, POSITIVE_INT], None), (["boolean"], True), (["boolean"], np.bool_(False)),
    ([Options(str, ("a", "b"))], "b"), ([ListOf(POSITIVE_INT, min_len=2)], [1, 2]), (["callable"], print),
    (["array-like"], [1.0, 2.0]), ([str, "callable"], "x"),
])
def test_accepted(constraints, value):
    assert check("f", "arg", value, constraints) is value


@pytest.mark.parametrize("constraints, value, error", [
    ([POSITIVE_INT], True, ArgumentTypeError),  # a bool is not an int
    ([POSITIVE_INT], 4.7, ArgumentTypeError),  # refused, not truncated
    ([POSITIVE_INT], 4.0, ArgumentTypeError),
    ([POSITIVE_INT], 0, InvalidArgumentError),
    ([PROBABILITY], math.nan, InvalidArgumentError),  # NaN fails every interval
    ([Interval(numbers.Real, None, None)], math.inf, InvalidArgumentError),
    ([REAL_01_OPEN], 1.0, InvalidArgumentError),
    ([PROBABILITY], "0.5", ArgumentTypeError),
    (["boolean"], "no", ArgumentTypeError),
    (["boolean"], 1, ArgumentTypeError),
    ([Options(str, ("a", "b"))], "c", InvalidArgumentError),
    ([ListOf(POSITIVE_INT, min_len=2)], [1, True], ArgumentTypeError),
    ([ListOf(POSITIVE_INT, min_len=2)], [1], InvalidArgumentError),
    (["callable"], 3, ArgumentTypeError),
])
def test_refused(constraints, value, error):
    with pytest.raises(error) as info:
        check("Thing", "arg", value, constraints)
    assert str(info.value).startswith("Thing(arg=...): expected ")
    assert isinstance(info.value, ValueError if error is InvalidArgumentError else TypeError)


def test_value_errors_are_config_errors_and_functions_read_as_calls():
    assert issubclass(InvalidArgumentError, ConfigError) and issubclass(InvalidArgumentError, ValueError)
    with pytest.raises(InvalidArgumentError, match=r"^f\(arg\): expected an int in \[1, inf\), got 0$"):
        check("f", "arg", 0, [POSITIVE_INT])


def test_reprs_are_shortened_to_one_line():
    assert short_repr("x" * 500) == repr("x" * 500)[:57] + "..."
    assert "\n" not in short_repr("a\nb")
    assert short_repr(np.zeros((100, 100))) == "array of shape (100, 100) and dtype float64"
