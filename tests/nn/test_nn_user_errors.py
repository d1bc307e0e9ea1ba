"""Bad arguments to the network API are ChainruleErrors (which the CLI prints as one line, exit 2),
each still the built-in exception a Python user would catch (ValueError / TypeError)."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.diagnostics import dense_layers
from chainrule.errors import ChainruleError
from chainrule.nn import losses
from chainrule.saving.atomic import atomic_write_json

CASES = [
    ("MLP sizes", lambda: nn.MLP([2]), ValueError, "sizes"),
    ("MLP activations", lambda: nn.MLP([2, 4, 2], activation=["relu", "tanh"]), ValueError, "activations"),
    ("unknown init", lambda: nn.MLP([2, 4, 2], init="hee").init(0), ValueError, "initializer"),
    ("Dense width", lambda: nn.Dense(0, 3), ValueError, "d_in"),
    ("Dropout p", lambda: nn.Dropout(1.5), ValueError, "Dropout(p=...)"),
    ("empty Sequential", lambda: nn.Sequential(), ValueError, "at least one layer"),
    ("not a layer", lambda: nn.Sequential(print), TypeError, "not a chainrule layer"),
    ("dtype", lambda: nn.MLP([2, 2]).init(0, dtype="float16"), ValueError, "float16"),
    ("call before init", lambda: nn.MLP([2, 2])(np.ones((1, 2))), ValueError, "init"),
    ("reduction", lambda: losses.mse(np.ones((2, 1)), np.ones((2, 1)), reduction="avg"), ValueError, "reduction"),
    ("zero weights", lambda: losses.mse(np.ones((2, 1)), np.ones((2, 1)), sample_weight=np.zeros(2)),
     ValueError, "sums to 0"),
    ("hinge targets", lambda: losses.hinge(np.ones((2, 1)), np.full((2, 1), 0.5)), ValueError, "-1 or +1"),
    ("diagnostics of a non-network", lambda: dense_layers(nn.Dense(2, 2)), TypeError, "Sequential"),
]


@pytest.mark.parametrize("name, call, builtin, words", CASES, ids=[c[0] for c in CASES])
def test_bad_argument_is_a_chainrule_error(name, call, builtin, words):
    with pytest.raises(ChainruleError) as info:
        call()
    assert isinstance(info.value, builtin)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_unwritable_json_value_is_a_chainrule_error(tmp_path):
    with pytest.raises(ChainruleError, match="cannot write object"):
        atomic_write_json(tmp_path / "x.json", {"a": object()})
    assert not (tmp_path / "x.json").exists()
