"""Any JSON the page (or anyone) sends is either handled or refused with a ChainruleError (an `error`
message): never another exception, and the session serves on afterwards."""

from __future__ import annotations

import json

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from chainrule.errors import ChainruleError  # noqa: E402
from chainrule.playground import messages  # noqa: E402
from chainrule.playground.session import Session  # noqa: E402

FIELD_NAMES = sorted({f for fields in messages.FIELDS.values() for f in fields} | {"id"})
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
                    st.text(max_size=12))
junk = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                    max_leaves=8)
small = st.one_of(st.integers(-2, 12), st.floats(-1e3, 1e3, allow_nan=False))
layer = st.fixed_dictionaries({"units": st.one_of(st.integers(0, 70), junk),
                               "activation": st.sampled_from(["tanh", "relu", "gelu", "softmax", "x"])})
SETTING = {"problem": st.sampled_from(["classification", "regression", "other"]),
           "dataset": st.sampled_from(["circle", "xor", "spiral3", "plane", "upload", "nope"]),
           "noise": small, "train_percent": small, "points": st.integers(0, 200), "seed": small,
           "batch_size": small, "features": st.lists(st.sampled_from(["x1", "x2", "x1x2", "sinx1", "x9"]),
                                                     max_size=4),
           "layers": st.lists(layer, max_size=3), "loss": st.sampled_from(["cross_entropy", "mse", "mae", "x"]),
           "optimizer": st.fixed_dictionaries({"name": st.sampled_from(["sgd", "adam", "momentum", "x"])},
                                              optional={"learning_rate": small, "momentum": small, "beta1": small}),
           "init": st.sampled_from(["xavier_uniform", "uniform_0.5", "x"]),
           "regularization": st.sampled_from(["none", "l1", "l2"]), "regularization_rate": small,
           "dropout": small, "batchnorm": st.booleans(), "residual": st.booleans(), "seeds": st.integers(0, 3)}
csv_text = st.lists(st.lists(st.one_of(st.integers(-3, 3).map(str), st.sampled_from(["a", "", "1e999", "0.5"])),
                             min_size=2, max_size=4).map(",".join), max_size=6).map("\n".join)
FIELD = {"n": st.integers(-1, 300), "layer": small, "row": small, "col": small, "value": small,
         "param": st.sampled_from(["weight", "bias", "x"]), "point": st.lists(small, max_size=3),
         "target": small, "csv": csv_text, "problem": st.sampled_from(["classification", "regression", "x"]),
         "snapshot": st.integers(-1, 4), "backward": st.booleans(), "id": st.one_of(st.integers(), st.text()),
         "settings": st.fixed_dictionaries({}, optional=SETTING)}
message = st.sampled_from(sorted(set(messages.FIELDS) - {"play", "pause"}) + ["nope"]).flatmap(
    lambda kind: st.fixed_dictionaries({"type": st.just(kind)}, optional={
        f: st.one_of(FIELD[f], junk) for f in (*messages.FIELDS.get(kind, ()), "id")}))


@pytest.fixture(scope="module")
def session():
    return Session({"points": 60, "layers": [{"units": 3, "activation": "tanh"}]})


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(m=message)
def test_any_message_is_handled_or_refused(session, m):
    try:
        session.handle(messages.parse(json.dumps(m)))
    except ChainruleError as e:
        assert str(e) and "\n" not in str(e)
    session.handle({"type": "step", "n": 1})  # and it serves on
