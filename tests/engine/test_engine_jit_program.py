"""chainrule.jit's program: the IR interpreter agrees with the generated code, the cache keeps
linecache bounded, clip compiles, and nothing a user wrote can become code."""

import builtins
import linecache

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.engine.tree import flatten
from chainrule.extend import defvjp, primitive
from chainrule.jit import MAX_PROGRAMS
from chainrule.jit.ir import evaluate


def same(a, b):
    la, lb = flatten(a)[0], flatten(b)[0]
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def test_the_interpreter_computes_the_generated_codes_bits():
    model = nn.MLP([3, 5, 4, 3], activation="relu")
    params = model.init(seed=0)
    rng = np.random.default_rng(0)

    def objective(p, x, y):
        return nn.losses.cross_entropy(model.apply(p, x), y)

    step = cr.jit(cr.value_and_grad(objective))
    x, y = rng.standard_normal((6, 3)), np.array([0, 1, 2, 0, 1, 2])
    program = step.program(params, x, y)
    x2 = rng.standard_normal((6, 3))  # not the traced example
    inputs = [a for a in flatten((params, x2, y))[0] if isinstance(a, np.ndarray)]
    interpreted = evaluate(program.ir, inputs)
    same(interpreted, program.run(inputs))
    same(interpreted, cr.value_and_grad(objective)(params, x2, y))


@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (-1.0, None), (None, 0.5), (None, None)])
def test_clip_compiles_under_grad(bounds):
    lo, hi = bounds
    f = cr.grad(lambda x: cnp.sum(cnp.clip(x, lo, hi) * x))
    compiled = cr.jit(f)
    for x in (np.array([-2.0, -0.5, 0.3, 0.7, 3.0]), np.array([0.9, -1.5, 2.0, -0.1, 0.6])):
        same(compiled(x), f(x))
    expected_inside = (x >= (lo if lo is not None else -np.inf)) & (x <= (hi if hi is not None else np.inf))
    np.testing.assert_array_equal(compiled(x), np.clip(x, lo, hi) + np.where(expected_inside, x, 0.0))


def test_an_index_tuple_holding_an_input_is_staged():
    table = np.arange(12.0).reshape(4, 3)  # a constant indexed by an input: z[rows, y]
    rows = np.arange(4)

    def f(z, y):
        picked = cnp.getitem(table, (rows, y)) + z[rows, y]
        return cnp.sum(picked * picked)

    g = cr.grad(f)
    compiled_f, compiled_g = cr.jit(f), cr.jit(g)
    z = np.random.default_rng(0).standard_normal((4, 3))
    for y in (np.array([0, 1, 2, 0]), np.array([2, 2, 1, 0])):  # compiled with the first labels only
        same(compiled_f(z, y), f(z, y))
        same(compiled_g(z, y), g(z, y))
    assert len(compiled_g.programs) == 1


def _jit_entries():
    return sum(1 for key in linecache.cache if key.startswith("<chainrule.jit"))


def test_the_cache_drops_programs_with_their_linecache_entries():
    before = _jit_entries()
    f = cr.jit(lambda x: cnp.tanh(x) * 2.0)
    n = MAX_PROGRAMS + 20
    for k in range(1, n + 1):  # a new shape: a new signature, a new program
        np.testing.assert_array_equal(f(np.ones(k)), np.tanh(np.ones(k)) * 2.0)
    assert len(f.programs) == MAX_PROGRAMS
    assert _jit_entries() - before == MAX_PROGRAMS  # the 20 dropped programs left linecache too


HOSTILE_KEYS = [
    "w\nbuiltins.CHAINRULE_HACKED = 1",
    "w\r    builtins.CHAINRULE_HACKED = 1",
    "w\u2028    builtins.CHAINRULE_HACKED = 1",
    "w\\\n    builtins.CHAINRULE_HACKED = 1",
    "w'\"); builtins.CHAINRULE_HACKED = 1 #",
    "w\x0c\x0b\x1c\x85 ok",
    "k" * 10_000,
]


def test_hostile_tree_keys_do_not_become_code():
    rng = np.random.default_rng(0)
    params = {key: rng.standard_normal(3) for key in HOSTILE_KEYS}

    def loss(p, x):
        return cnp.sum(cnp.tanh(sum(p.values()) * x))

    step = cr.jit(cr.value_and_grad(loss))
    x = rng.standard_normal(3)
    for _ in range(2):
        same(step(params, x), cr.value_and_grad(loss)(params, x))
    source = step.program(params, x).source
    assert not hasattr(builtins, "CHAINRULE_HACKED")
    for char in ("\r", "\u2028", "\x0c", "\x0b", "\x1c", "\x85"):
        assert char not in source
    for line in source.splitlines()[1:]:  # every line after the def is an indented statement or comment
        assert line.startswith("    ") and len(line) < 400


def test_hostile_names_static_arguments_and_options_do_not_become_code():
    name = "p\nbuiltins.CHAINRULE_HACKED = 1\n#"
    scale = primitive(name, lambda x, tag="", **options: 2.0 * x)
    defvjp(scale, lambda g, ans, x, tag="", **options: 2.0 * g)
    tag = "');\nbuiltins.CHAINRULE_HACKED = 1 #\u2028"

    def f(x, label):
        return cnp.sum(scale(x, tag=label, **{"odd key\nbuiltins.CHAINRULE_HACKED = 1": 1}) * x), label

    compiled = cr.jit(cr.value_and_grad(f, has_aux=True))
    x = np.array([1.0, 2.0])
    for _ in range(2):
        (value, label), g = compiled(x, tag)
        assert value == 10.0 and label == tag
        np.testing.assert_array_equal(g, 4.0 * x)
    assert not hasattr(builtins, "CHAINRULE_HACKED")
    assert "\u2028" not in compiled.program(x, tag).source
