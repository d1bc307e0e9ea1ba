"""Every primitive over a grid of shapes, in float64, against two independent truths.

1. ``check_grads`` in both modes to order 2: forward-mode J·v and reverse-mode Jᵀu (and the
   derivatives of both) against central differences along random directions. Its default
   threshold, 1e-7 relative, is what it is because the central difference has truncation
   error O(ε²·f''') ≈ 1e-12 and round-off O(ε_mach·|f|/ε) ≈ 1e-10 at ε = 1e-6, while a wrong
   rule is off by O(1): the gap between the two is what makes the test able to fail.
2. The dot-product test ⟨u, J v⟩ = ⟨Jᵀu, v⟩ between forward and reverse mode, to 1e-12
   relative to ‖u‖‖Jv‖ + ‖Jᵀu‖‖v‖: both sides are exact up to float64 round-off (ε_mach ≈
   2e-16 times the few dozen terms of these small arrays, i.e. ≲ 1e-14), so 1e-12 leaves two
   orders of margin while any rule that is not the transpose of its twin is off by O(1).

Inputs keep away from kinks and domain edges (positive for log/sqrt/power's base, |x| ≥ 0.3
for abs/relu, distinct entries for max/min/maximum/minimum, away from clip's bounds), since
the checks are of derivatives, and conventions at kinks are tested in test_engine_conventions.
"""

import zlib

import numpy as np
import pytest
from engine_helpers import dot_product_gap

import chainrule as cr
import chainrule.numpy as cnp

SHAPES = [(), (4,), (2, 3), (2, 3, 4), (1, 3, 1)]
# Pairs that broadcast: equal, scalar against array, size-1 axes stretched on either side,
# and a batched 3-D array against a lower-rank one.
PAIRS = [
    ((), ()),
    ((3,), ()),
    ((), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((2, 3, 4), (3, 1)),
    ((1, 3), (2, 3)),
    ((2, 1, 4), (2, 3, 4)),
]


def _rng(*key):
    # a seed from the case's name (crc32, not hash(): str hashes change between runs)
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def normal(shape, *key):
    return _rng("normal", shape, *key).standard_normal(shape)


def positive(shape, *key):
    return _rng("positive", shape, *key).uniform(0.5, 2.0, shape)


def away_from_zero(shape, *key):
    """|x| in [0.3, 2]: the kink of abs/relu at 0 is 3e5 probe steps away."""
    rng = _rng("away", shape, *key)
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def distinct(shape, *key):
    """Distinct multiples of 0.1, shuffled: max/min have no ties within a probe step."""
    n = int(np.prod(shape))
    values = 0.1 * (np.arange(n) - n // 2)
    return _rng("distinct", shape, *key).permutation(values).reshape(shape)


CASES = []


def case(name, f, *args):
    CASES.append(pytest.param(f, args, id=name))


# ---- elementwise, one argument -------------------------------------------------------------
UNARY = {
    "negative": (cnp.negative, normal),
    "square": (cnp.square, normal),
    "exp": (cnp.exp, normal),
    "log": (cnp.log, positive),
    "log1p": (cnp.log1p, positive),
    "expm1": (cnp.expm1, normal),
    "sqrt": (cnp.sqrt, positive),
    "abs": (cnp.abs, away_from_zero),
    "tanh": (cnp.tanh, normal),
    "sigmoid": (cnp.sigmoid, normal),
    "softplus": (cnp.softplus, normal),
    "erf": (cnp.erf, normal),
    "sin": (cnp.sin, normal),
    "cos": (cnp.cos, normal),
    "relu": (cnp.relu, away_from_zero),
    "astype": (lambda x: cnp.astype(x, np.float64), normal),
    "pow_int": (lambda x: x**3, normal),
    "pow_float": (lambda x: x**1.5, positive),
    "rpow": (lambda x: 2.0**x, normal),
}
for _name, (_f, _gen) in UNARY.items():
    for _shape in SHAPES:
        case(f"{_name}-{_shape}", _f, _gen(_shape, _name))

# ---- elementwise, two arguments, with broadcasting ---------------------------------------------
for _a, _b in PAIRS:
    _tag = f"{_a}x{_b}"
    case(f"add-{_tag}", cnp.add, normal(_a, 1), normal(_b, 2))
    case(f"subtract-{_tag}", cnp.subtract, normal(_a, 1), normal(_b, 2))
    case(f"multiply-{_tag}", cnp.multiply, normal(_a, 1), normal(_b, 2))
    case(f"divide-{_tag}", cnp.divide, normal(_a, 1), away_from_zero(_b, 2))
    case(f"power-{_tag}", cnp.power, positive(_a, 1), normal(_b, 2))
    # distinct() gives multiples of 0.1; the offset 0.05 keeps every pair of entries of the
    # two arrays at least 0.05 apart, so no probe makes maximum/minimum tie.
    case(f"maximum-{_tag}", cnp.maximum, distinct(_a, 1), distinct(_b, 2) + 0.05)
    case(f"minimum-{_tag}", cnp.minimum, distinct(_a, 1), distinct(_b, 2) + 0.05)
    _cond = _rng("cond", _tag).random(np.broadcast_shapes(_a, _b)) < 0.5
    case(f"where-{_tag}", lambda x, y, c=_cond: cnp.where(c, x, y), normal(_a, 1), normal(_b, 2))
case("where-scalar-branch", lambda x: cnp.where(normal((2, 3), 3) > 0, x, 0.0), normal((2, 3), 4))
case("clip-both", lambda x: cnp.clip(x, -0.5, 0.5), distinct((3, 4)) + 0.025)
case("clip-lo", lambda x: cnp.clip(x, a_min=0.0), distinct((2, 3, 2)) + 0.025)
case("clip-hi", lambda x: cnp.clip(x, a_max=0.1), distinct((5,)) + 0.025)

# ---- matrix products ------------------------------------------------------------------------
MATMUL = [
    ((3,), (3,)),  # 1-D · 1-D: inner product
    ((3,), (3, 4)),  # 1-D · 2-D
    ((2, 3), (3,)),  # 2-D · 1-D
    ((2, 3), (3, 4)),  # 2-D · 2-D
    ((5, 2, 3), (3, 4)),  # batched · matrix
    ((2, 3), (5, 3, 4)),  # matrix · batched
    ((5, 1, 2, 3), (4, 3, 2)),  # batch axes broadcast on both sides: (5, 4, 2, 2)
    ((2, 2, 3), (3,)),  # batched · vector
    ((3,), (2, 3, 4)),  # vector · batched
]
for _a, _b in MATMUL:
    case(f"matmul-{_a}x{_b}", cnp.matmul, normal(_a, 1), normal(_b, 2))
for _a, _b in [((), (2, 3)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4))]:
    case(f"dot-{_a}x{_b}", cnp.dot, normal(_a, 1), normal(_b, 2))

# ---- reductions ---------------------------------------------------------------------------
AXES = [
    ((), None, False),
    ((4,), None, False),
    ((4,), 0, True),
    ((2, 3), 1, False),
    ((2, 3), -1, True),
    ((2, 3), 0, False),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (-1, 0), True),
    ((2, 3, 4), None, True),
    ((1, 3, 1), -3, False),
]
REDUCTIONS = {
    "sum": (cnp.sum, normal),
    "mean": (cnp.mean, normal),
    "max": (cnp.max, distinct),
    "min": (cnp.min, distinct),
    "var": (cnp.var, normal),
    "std": (cnp.std, normal),
    "logsumexp": (cnp.logsumexp, normal),
}
for _name, (_f, _gen) in REDUCTIONS.items():
    for _shape, _axis, _keep in AXES:
        if _name == "std" and _shape in ((), (1, 3, 1)) and _axis in (None, -3):
            continue  # the std of one number is 0, where sqrt has no derivative
        case(
            f"{_name}-{_shape}-axis={_axis}-keepdims={_keep}",
            lambda x, f=_f, axis=_axis, keep=_keep: f(x, axis=axis, keepdims=keep),
            _gen(_shape, _name),
        )
case("var-ddof=1", lambda x: cnp.var(x, axis=0, ddof=1), normal((4, 3)))
case("std-ddof=1", lambda x: cnp.std(x, axis=1, ddof=1, keepdims=True), normal((2, 5)))
for _name, _f in [("softmax", cnp.softmax), ("log_softmax", cnp.log_softmax)]:
    for _shape, _axis in [((4,), -1), ((2, 3), -1), ((2, 3), 0), ((2, 3, 4), 1), ((2, 1, 3), -1)]:
        case(f"{_name}-{_shape}-axis={_axis}", lambda x, f=_f, axis=_axis: f(x, axis=axis), normal(_shape))

# ---- moving entries -----------------------------------------------------------------------
for _shape, _new in [((2, 3), (3, 2)), ((6,), (2, -1)), ((), (1, 1)), ((2, 3, 4), (4, 6))]:
    case(f"reshape-{_shape}->{_new}", lambda x, s=_new: cnp.reshape(x, s), normal(_shape))
for _shape, _axes in [((2, 3), None), ((4,), None), ((2, 3, 4), (1, 0, 2)), ((2, 3, 4), (-1, 0, 1))]:
    case(f"transpose-{_shape}-{_axes}", lambda x, a=_axes: cnp.transpose(x, a), normal(_shape))
case("T-method", lambda x: x.T, normal((2, 3, 4)))
for _shape, _to in [((3,), (2, 3)), ((2, 1), (2, 3)), ((), (2, 2)), ((1, 3), (4, 2, 3))]:
    case(f"broadcast_to-{_shape}->{_to}", lambda x, s=_to: cnp.broadcast_to(x, s), normal(_shape))
for _shape, _axis in [((3,), 0), ((2, 3), -1), ((2, 3), (0, 2)), ((), 0)]:
    case(f"expand_dims-{_shape}-{_axis}", lambda x, a=_axis: cnp.expand_dims(x, a), normal(_shape))
for _shape, _axis in [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1), ((2, 1), (1,))]:
    case(f"squeeze-{_shape}-{_axis}", lambda x, a=_axis: cnp.squeeze(x, a), normal(_shape))

_MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
INDICES = {
    "int": 1,
    "negative-int": -1,
    "slice": slice(1, 3),
    "negative-step": slice(None, None, -1),
    "negative-step-2": (slice(None), slice(3, 0, -2)),
    "ellipsis-None": (Ellipsis, None),
    "None-ellipsis-int": (None, Ellipsis, 2),
    "int-slice": (1, slice(None, None, 2)),
    "fancy-repeated": ([0, 2, 0, 0],),
    "fancy-2d-repeated": (np.array([[0, 1], [1, 1]]),),
    "fancy-columns": (slice(None), [3, 0, 3]),
    "fancy-paired": ([0, 2, 2], [1, 3, 3]),
    "bool-mask": _MASK,
    "bool-row-mask": np.array([True, False, True]),
}
for _name, _idx in INDICES.items():
    case(f"getitem-{_name}", lambda x, i=_idx: x[i], normal((3, 4)))
case("getitem-3d", lambda x: x[:, 1:, ::-1][..., [0, 0]], normal((2, 3, 4)))

for _shapes, _axis in [(((2, 3), (4, 3)), 0), (((2, 3), (2, 1), (2, 2)), 1), (((2, 3, 1), (2, 3, 2)), -1),
                       (((3,), (2,)), 0), (((2, 3), (4,)), None)]:
    _args = tuple(normal(s, k) for k, s in enumerate(_shapes))
    case(f"concatenate-{_shapes}-axis={_axis}", lambda *xs, a=_axis: cnp.concatenate(xs, axis=a), *_args)
for _shape, _axis in [((3,), 0), ((2, 3), -1), ((2, 3), 1), ((), 0)]:
    _args = (normal(_shape, 1), normal(_shape, 2), normal(_shape, 3))
    case(f"stack-{_shape}-axis={_axis}", lambda *xs, a=_axis: cnp.stack(xs, axis=a), *_args)

# A composite that reuses every family at once, as a network does.
case(
    "composite",
    lambda W, b, x: cnp.sum(cnp.log_softmax(cnp.tanh(x @ W.T + b), axis=-1) * cnp.softmax(x[:, :2], axis=-1)),
    normal((2, 3)),
    normal((2,)),
    normal((4, 3)),
)


@pytest.mark.parametrize(("f", "args"), CASES)
def test_check_grads_both_modes_order_2(f, args):
    report = cr.check_grads(f, args, modes=("fwd", "rev"), order=2)
    # Six entries per leaf (fwd, rev, and the four compositions at order 2): nothing skipped.
    assert len(report.entries) == 6 * len(args)
    assert all(e.status == "pass" for e in report.entries), str(report)


@pytest.mark.parametrize(("f", "args"), CASES)
def test_dot_product_forward_against_reverse(f, args):
    assert dot_product_gap(f, args) <= 1e-12
