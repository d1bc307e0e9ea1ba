"""Hypothesis-generated configs (issue 12): every one ends in a completed config or a
one-line ConfigError whose message names the offending key."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule import runs
from chainrule.errors import ConfigError
from chainrule.runs.schema import TABLES, TOP

HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10 ** 400), max_value=10 ** 400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.lists(st.one_of(st.integers(min_value=-(10 ** 40), max_value=10 ** 40), st.floats(), st.text(max_size=5)),
             max_size=4),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)
KEYS = [("", f.name) for f in TOP.fields] + [(s.name, f.name) for s in TABLES.values() for f in s.fields]
OPTION_KEYS = ["n", "noise", "n_per_class", "n_classes", "dim", "centers", "x_range", "seed", "turns", "factor"]


@st.composite
def configs(draw):
    cfg = {}
    for section, key in draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True)):
        value = draw(HOSTILE)
        (cfg if not section else cfg.setdefault(section, {}))[key] = value
    if draw(st.booleans()):
        data = cfg.setdefault("data", {})
        if not isinstance(data, dict):
            return cfg
        data["name"] = draw(st.sampled_from(["moons", "spiral", "blobs", "regression_1d", "circles"]))
        data["options"] = {k: draw(HOSTILE) for k in draw(st.lists(st.sampled_from(OPTION_KEYS), max_size=3))}
    return cfg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_a_config_is_completed_or_refused_naming_its_key(cfg):
    try:
        runs.complete(cfg)
    except ConfigError as e:
        message = str(e)
        assert "\n" not in message and len(message) <= 700, message
        named = [key for section, key in ([("", k) for k in cfg] + [(s, k) for s, d in cfg.items()
                                                                      if isinstance(d, dict) for k in d])
                 if key in message or section and section in message]
        assert named, message
