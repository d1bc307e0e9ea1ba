"""Property: any value for any argument of the main constructors ends in success or in a one-line
ChainruleError (a ValueError or TypeError) whose message names that argument (issue 12, item 11).
Never a KeyError, AttributeError, IndexError, a raw NumPy message, or a silent wrong setting."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule import nn, optim
from chainrule.errors import ChainruleError
from chainrule.optim import schedules

# Values of every kind a user or a config file might pass, sized so a success allocates little
# (L-BFGS allocates its history up front: a huge history_size is a memory budget, issue 12 item 6).
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 40), st.integers(-10**5, 10**5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.sampled_from(["relu", "tanh", "none", "no", "yes", "1", "strong_wolfe", "min"]),
    st.lists(st.one_of(st.integers(-2, 12), st.booleans(), st.floats(-2, 2)), max_size=4),
    st.tuples(st.floats(-0.5, 1.5), st.floats(-0.5, 1.5)), st.complex_numbers(max_magnitude=10),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def params():
    return {"w": np.ones(3)}


def init(seed):
    return nn.MLP([2, 2]).init(seed=seed)


# (what, build from one keyword, the argument, words one of which the message must hold)
TARGETS = [
    ("Dense", lambda **kw: nn.Dense(**{"d_in": 2, "d_out": 3, **kw}), ["d_in", "d_out"]),
    ("BatchNorm", lambda **kw: nn.BatchNorm(**{"num_features": 3, **kw}), ["num_features", "momentum", "eps"]),
    ("Dropout", lambda **kw: nn.Dropout(**kw), ["p"]),
    ("Activation", lambda **kw: nn.Activation(**{"name": "elu", **kw}), ["name", "alpha"]),
    ("LeakyReLU", lambda **kw: nn.LeakyReLU(**kw), ["alpha"]),
    ("GELU", lambda **kw: nn.GELU(**kw), ["approximate"]),
    ("MLP", lambda **kw: nn.MLP(**{"sizes": [2, 3, 1], **kw}),
     ["sizes", "activation", "output_activation", "batchnorm", "dropout"]),
    ("init", lambda **kw: init(**kw), ["seed"]),
    ("SGD", lambda **kw: optim.SGD(params(), **kw), ["learning_rate", "momentum", "dampening", "nesterov",
                                                     "weight_decay", "l1", "clip_norm", "clip_value"]),
    ("RMSProp", lambda **kw: optim.RMSProp(params(), **kw), ["alpha", "eps", "momentum", "centered"]),
    ("Adam", lambda **kw: optim.Adam(params(), **kw), ["learning_rate", "betas", "eps", "amsgrad"]),
    ("AdamW", lambda **kw: optim.AdamW(params(), **kw), ["betas", "weight_decay", "amsgrad"]),
    ("Adagrad", lambda **kw: optim.Adagrad(params(), **kw), ["eps", "initial_accumulator_value"]),
    ("LBFGS", lambda **kw: optim.LBFGS(params(), **kw), ["history_size", "line_search", "max_line_search",
                                                         "tolerance_grad", "tolerance_change"]),
    ("StepDecay", lambda **kw: schedules.StepDecay(**{"learning_rate": 0.1, "step_size": 3, **kw}),
     ["learning_rate", "step_size", "gamma"]),
    ("Cosine", lambda **kw: schedules.Cosine(**{"learning_rate": 0.1, "total_steps": 3, **kw}),
     ["learning_rate", "total_steps", "min_lr"]),
    ("LinearWarmup", lambda **kw: schedules.LinearWarmup(**{"warmup_steps": 2, "then": 0.1, **kw}),
     ["warmup_steps", "then"]),
    ("ReduceOnPlateau", lambda **kw: schedules.ReduceOnPlateau(**{"learning_rate": 0.1, **kw}),
     ["factor", "patience", "min_lr", "mode", "threshold", "threshold_mode", "cooldown"]),
]
# An unknown activation name is reported as "unknown activation 'x'" (with the valid names).
ALSO = {"name": "activation", "activation": "activation", "output_activation": "activation"}
CASES = [(what, build, arg) for what, build, args in TARGETS for arg in args]


@pytest.mark.parametrize(("what", "build", "arg"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
@given(value=VALUES)
def test_any_value_ends_in_success_or_an_error_naming_the_argument(what, build, arg, value):
    try:
        built = build(**{arg: value})
    except ChainruleError as e:
        message = str(e)
        assert isinstance(e, ValueError | TypeError), (type(e), message)
        assert "\n" not in message, message
        assert arg in message or ALSO.get(arg, arg) in message, (arg, message)
        return
    # Accepted: then the value was a real option, and it is what it says.
    assert not isinstance(value, complex), value
    kept = getattr(built, arg, None)
    if isinstance(kept, bool) or arg in ("nesterov", "centered", "amsgrad", "batchnorm"):
        assert isinstance(value, bool | np.bool_), (arg, value)
    if isinstance(kept, float):
        assert math.isfinite(kept) and not isinstance(value, bool), (arg, value)
