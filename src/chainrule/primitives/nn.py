"""Fused network primitives: a dense layer (with its activation) and softmax cross-entropy.

These are ordinary primitives — gradient-checked like every other — whose rules *are* the
seeds' backpropagation equations, so a network records one node per layer instead of one per
elementwise operation (ENGINE-NOTES §7):

    dense:  a = σ(z),  z = x Wᵀ + b          x: (batch, d_in), W: (d_out, d_in), b: (d_out,)
            (or with a leading model axis K — x: (K, batch, d_in) or shared (batch, d_in),
            W: (K, d_out, d_in), b: (K, d_out) — for ensembles trained in one call)
            δ = g ⊙ σ'(z)                     (BP2: σ' read off the output a where possible)
            ∂L/∂W = δᵀ x,  ∂L/∂b = Σ_batch δ  (BP3, BP4)
            ∂L/∂x = δ W                       (the error signal passed to the layer below)

    softmax_cross_entropy:  ℓ_i = logsumexp(z_i) − z_i[y_i];   ∂ℓ_i/∂z_i = softmax(z_i) − onehot(y_i)

The activations fused into ``dense`` are those whose derivative is a function of the output a:
identity, relu (σ' = [a > 0], relu'(0) = 0), leaky_relu (1 or α), tanh (1 − a²), sigmoid
(a(1 − a)). Their rules are written with chainrule primitives, so higher derivatives work.
"""

from __future__ import annotations

import numpy as np

from ..engine.core import dtype_of, shape_of
from ..errors import ShapeError
from ..extend import defjvp, defvjp, defvjp_all, primitive
from .elementwise import divide, greater, multiply, negative, subtract, where
from .linalg import _matmul_impl, matmul
from .reduce import sum_
from .shape import _transpose_impl, reshape, transpose
from .softmax import _logsumexp_rows, _softmax_impl, _softmax_linear, log_softmax, softmax
from .unary import _sigmoid_impl

FUSED_ACTIVATIONS = ("identity", "relu", "leaky_relu", "tanh", "sigmoid")


_ZERO = {np.dtype(t): np.zeros((), t) for t in (np.float16, np.float32, np.float64)}


def _one_network(x, W, b):
    """Plain arrays x (batch, d_in), W (d_out, d_in), b (d_out,) that fit: the fast path x Wᵀ + b."""
    ndarray = np.ndarray
    return (type(x) is ndarray and type(W) is ndarray and type(b) is ndarray and x.ndim == 2 and W.ndim == 2
            and x.shape[1] == W.shape[1] and b.shape == W.shape[:1])


# z = x Wᵀ + b, then σ in place, for arrays that pass ``_one_network``: the one copy of the forward
# formula, as NumPy statements over x, W, b (and ``zero``, a 0-d zero of z's dtype, so relu converts
# no Python scalar per call). ``dense`` runs them as functions compiled once below; chainrule.jit
# writes the same statements into its code. (x.dot(W.T) is x @ W.T, the same BLAS call with less
# dispatch: see linalg.matmul.) leaky_relu and sigmoid are not written in place.
AFFINE_STATEMENTS = ("z = x.dot(W.T)", "z += b")
ACTIVATION_STATEMENTS = {
    "identity": (),
    "relu": ("np.maximum(z, zero, out=z)",),
    "tanh": ("np.tanh(z, out=z)",),
}
DENSE_STATEMENTS = {act: AFFINE_STATEMENTS + lines for act, lines in ACTIVATION_STATEMENTS.items()}


def _compile(functions):
    """Compile ``{name: (arguments, statements)}`` (each returning z) in one go: a dict of functions."""
    source = "".join(f"def {name}({arguments}):\n" + "".join(f"    {line}\n" for line in statements + ("return z",))
                     for name, (arguments, statements) in functions.items())
    namespace = {"np": np}
    exec(compile(source, "<chainrule dense kernels>", "exec"), namespace)
    return {name: namespace[name] for name in functions}


_KERNELS = _compile({**{f"dense_{act}": ("x, W, b, zero", lines) for act, lines in DENSE_STATEMENTS.items()},
                     **{f"activate_{act}": ("z, zero", lines) for act, lines in ACTIVATION_STATEMENTS.items()}})
_DENSE_KERNELS = {act: _KERNELS[f"dense_{act}"] for act in DENSE_STATEMENTS}
_ACTIVATION_KERNELS = {act: _KERNELS[f"activate_{act}"] for act in ACTIVATION_STATEMENTS}


def _activate(z, activation, alpha):
    """σ(z), in place where ACTIVATION_STATEMENTS writes it so."""
    kernel = _ACTIVATION_KERNELS.get(activation)
    if kernel is not None:
        return kernel(z, _ZERO.get(z.dtype, 0))
    if activation == "leaky_relu":
        return np.where(z > 0, z, alpha * z)
    if activation == "sigmoid":
        return _sigmoid_impl(z)
    raise ValueError(f"dense: unknown fused activation {activation!r}; expected one of {FUSED_ACTIVATIONS}")


def _dense_impl(x, W, b, activation="identity", alpha=0.01):
    if _one_network(x, W, b):
        kernel = _DENSE_KERNELS.get(activation)
        if kernel is not None:
            return kernel(x, W, b, _ZERO.get(x.dtype, 0))
        return _activate(_DENSE_KERNELS["identity"](x, W, b, None), activation, alpha)
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    x_shape, W_shape, b_shape = x.shape, W.shape, b.shape
    if len(x_shape) not in (2, 3) or x_shape[-1] != W_shape[-1] or b_shape != W_shape[:-1]:
        raise ShapeError(
            f"dense: input of shape {x_shape} does not fit weight of shape {W_shape} and bias of shape "
            f"{b_shape} (expected (batch, {W_shape[-1]}) and bias {W_shape[:-1]})"
        )
    if len(W_shape) == 2:
        z = x @ W.T
        z += b
    else:  # an ensemble: one (d_out, d_in) matrix per model
        # On the transposed view each model's product is the BLAS call a single network makes
        # (x @ W.T): the same bits. A contiguous copy of Wᵀ takes another kernel, which rounds
        # differently at some widths (16 → 2), so a seed ensemble would not be its separate runs.
        # b repeated over the batch: the add runs 2-3× faster so than on a broadcast, same numbers.
        z = np.matmul(x, np.swapaxes(W, -1, -2))
        z += np.repeat(b[:, None, :], z.shape[-2], axis=-2)
    return _activate(z, activation, alpha)


_SWAP_LAST = {2: (1, 0), 3: (0, 2, 1)}


def _T(x):
    """Swap the last two axes (the matrix transpose, batched over any leading model axis)."""
    return transpose(x, axes=_SWAP_LAST[len(shape_of(x))])


def _batch_sum(delta):
    """Σ over the batch axis (−2) of δ: (batch, d_out) -> (d_out,), or (K, batch, d_out) -> (K, d_out).

    For small slices a product with a row of ones (one BLAS call per model) is much faster than
    NumPy's reduction along a middle axis; the choice depends on the (batch, d_out) slice only,
    so a model gets the same bits alone and inside an ensemble, traced or not.
    """
    B, d_out = shape_of(delta)[-2:]
    if B * d_out > 65536:
        return sum_(delta, axis=-2)
    ones = _ones_row(B, dtype_of(delta))
    if type(delta) is np.ndarray and delta.ndim == 2:
        return ones.dot(delta)[0]  # = matmul(ones, delta)[0]: the same BLAS call
    row = matmul(ones, delta)  # (..., 1, d_out)
    if type(row) is np.ndarray:
        return row[..., 0, :]
    return reshape(row, shape_of(row)[:-2] + (d_out,))


_ONES = {}


def _ones_row(B, dtype):
    """A (1, B) row of ones, made once per (B, dtype) and never written to."""
    row = _ONES.get((B, dtype))
    if row is None:
        row = np.ones((1, B), dtype=dtype)
        row.flags.writeable = False
        if len(_ONES) < 64:
            _ONES[(B, dtype)] = row
    return row


def _bias_shaped(t, W):
    """A bias (K, d_out) as (K, 1, d_out) so it broadcasts over the batch; (d_out,) unchanged."""
    return t if len(shape_of(W)) == 2 else reshape(t, (shape_of(t)[0], 1, shape_of(t)[1]))


class _TracedOps:
    """The operations the dense formulas below are written with, as chainrule primitives:
    differentiable (higher order), and recorded by jit."""

    greater = staticmethod(greater)
    multiply = staticmethod(multiply)
    subtract = staticmethod(subtract)
    where = staticmethod(where)
    matmul = staticmethod(matmul)
    T = staticmethod(_T)


class _NumPyOps(_TracedOps):
    """The same operations on plain arrays: the NumPy functions the primitives' implementations
    call, without dispatch (the fast first-order path; the same calls, so the same bits)."""

    greater = staticmethod(np.greater)
    multiply = staticmethod(np.multiply)
    subtract = staticmethod(np.subtract)
    where = staticmethod(np.where)
    matmul = staticmethod(_matmul_impl)
    T = staticmethod(lambda d: _transpose_impl(d, _SWAP_LAST[d.ndim]))


class _MatrixOps(_NumPyOps):
    """Plain 2-D arrays of one dtype: ``matmul`` is ``ndarray.dot`` (what _matmul_impl runs for them)."""

    matmul = staticmethod(np.ndarray.dot)
    T = staticmethod(np.ndarray.transpose)


def _delta(ops, g, a, activation, alpha):
    """BP1/BP2: δ = g ⊙ σ'(z), the layer's error signal, with σ' read off the output a = σ(z)."""
    if activation == "identity":
        return g
    if activation == "relu":
        return ops.multiply(g, ops.greater(a, 0))  # a boolean mask keeps g's dtype
    if activation == "leaky_relu":
        return ops.multiply(g, ops.where(ops.greater(a, 0), np.ones((), dtype_of(a)), np.asarray(alpha, dtype_of(a))))
    if activation == "tanh":
        return ops.multiply(g, ops.subtract(1.0, ops.multiply(a, a)))
    return ops.multiply(g, ops.multiply(a, ops.subtract(1.0, a)))  # sigmoid


def _dense_vjp(argnums, g, a, x, W, b, activation="identity", alpha=0.01):
    """BP1–BP4, written once over ``ops``: plain NumPy at first order (the training step, no
    dispatch), chainrule primitives at higher order or under jit (tests check both give the same bits)."""
    ndarray = np.ndarray
    if type(g) is ndarray and type(a) is ndarray and type(x) is ndarray and type(W) is ndarray:
        ops = _MatrixOps if g.ndim == x.ndim == W.ndim == 2 and g.dtype is a.dtype is x.dtype is W.dtype else _NumPyOps
    else:
        ops = _TracedOps
    delta = _delta(ops, g, a, activation, alpha)
    return [ops.matmul(delta, W) if i == 0  # the error signal for the layer below: δ W
            else ops.matmul(ops.T(delta), x) if i == 1  # BP4: ∂L/∂W = δᵀ x
            else _batch_sum(delta)  # BP3: ∂L/∂b = Σ_batch δ
            for i in argnums]


dense = primitive("dense", _dense_impl)
defvjp_all(dense, _dense_vjp)


def _dense_jvp(i):
    def rule(t, a, x, W, b, activation="identity", alpha=0.01):
        if i == 0:
            z_dot = matmul(t, _T(W))
        elif i == 1:
            z_dot = matmul(x, _T(t))
        else:
            z_dot = _bias_shaped(t, W)
        return _delta(_TracedOps, z_dot, a, activation, alpha)

    return rule


defjvp(dense, _dense_jvp(0), _dense_jvp(1), _dense_jvp(2))


def _labels_in_range(y, n_classes):
    """0 <= y < n_classes, in one reduction: read as unsigned, negative labels are at least
    2^(bits-1), out of range whenever n_classes is not above that (else two reductions)."""
    if not len(y):
        return True
    bits = 8 * y.dtype.itemsize
    if y.dtype.kind == "i" and n_classes > 1 << (bits - 1):
        return np.minimum.reduce(y) >= 0 and np.maximum.reduce(y) < n_classes
    return np.maximum.reduce(y.view(np.dtype(f"u{y.dtype.itemsize}"))) < n_classes


def _check_targets(z, y):
    if (type(z) is np.ndarray and type(y) is np.ndarray and z.ndim == 2 and y.dtype.kind in "iu"
            and y.shape == z.shape[:1] and _labels_in_range(y, z.shape[1])):
        return  # the common case, checked in a few cheap operations; errors are worded below
    z, y = np.asarray(z), np.asarray(y)
    z_shape, y_shape = z.shape, y.shape
    if len(z_shape) != 2:
        raise ShapeError(f"softmax_cross_entropy: logits must be (batch, classes), found shape {z_shape}")
    if y.dtype.kind in "iu":
        if y_shape != z_shape[:1]:
            raise ShapeError(
                f"softmax_cross_entropy: integer labels of shape {y_shape} for logits of shape {z_shape} "
                f"(expected labels of shape ({z_shape[0]},))"
            )
        if len(y) and (np.minimum.reduce(y) < 0 or np.maximum.reduce(y) >= z_shape[1]):
            raise ShapeError(
                f"softmax_cross_entropy: labels must lie in [0, {z_shape[1] - 1}], "
                f"found values in [{np.min(y)}, {np.max(y)}]"
            )
    elif y_shape != z_shape:
        raise ShapeError(
            f"softmax_cross_entropy: target probabilities of shape {y_shape} for logits of shape {z_shape}"
        )


_OFFSETS = {}


def _flat_index(y, n_classes):
    """Indices of the entries (i, y_i) in the flattened (batch, n_classes) array."""
    key = (len(y), n_classes)
    offsets = _OFFSETS.get(key)
    if offsets is None:
        offsets = np.arange(0, len(y) * n_classes, n_classes)
        if len(_OFFSETS) < 64:
            _OFFSETS[key] = offsets
    return offsets + y.astype(np.intp, copy=False)  # (uint64 labels + int64 offsets would be float64)


# A copy of the last (small) logits whose loss was computed with integer labels, with their
# shifted exponentials e and row sums s: the backward pass asks for softmax(z) = e / s of equal
# logits right after the forward pass, and gets it without a second max / exp / sum. Reuse needs
# equal values (not the same object: an array can change in place), so this is a cache with no
# effect on results. One tuple, replaced whole: a concurrent reader sees an old or a new entry.
_softmax_memo = [None]
_MEMO_MAX = 1 << 16  # entries: above this the recomputation is cheap next to the matrix products


def _sce_impl(z, y):
    _check_targets(z, y)
    z, y = np.asarray(z), np.asarray(y)
    lse, e, s = _logsumexp_rows(z)
    if y.dtype.kind in "iu":
        if z.size <= _MEMO_MAX:
            _softmax_memo[0] = (z.copy(), e, s)
        return lse - z.reshape(-1).take(_flat_index(y, z.shape[1]))  # lse_i - z[i, y_i]
    return lse * np.sum(y, axis=1) - np.sum(y * z, axis=1)


def _is_labels(y):
    return dtype_of(y).kind in "iu"


def _sce_residual_impl(z, y):
    _check_targets(z, y)  # also here: a compiled gradient may not compute the loss itself
    # softmax is recomputed with the max shift: reusing ℓ + z_y as logsumexp(z) would lose
    # digits for large logits in float32 (ulp(1e4) = 1e-3).
    z, y = np.asarray(z), np.asarray(y)
    memo = _softmax_memo[0]
    if memo is not None and memo[0].shape == z.shape and memo[0].dtype == z.dtype and np.equal(memo[0], z).all():
        p = memo[1] / memo[2][:, None]  # the forward pass of these logits just ran: e / s is softmax(z)
    else:
        p = _softmax_impl(z, axis=1)
    if p.flags.c_contiguous:
        p.reshape(-1)[_flat_index(y, p.shape[1])] -= 1  # reshape is a view of the new array p
    else:  # (logits in Fortran order give p in Fortran order)
        p[np.arange(len(y)), y] -= 1
    return p


# softmax(z) − onehot(y) for integer labels: the gradient of ℓ w.r.t. the logits, one node. Its
# derivative w.r.t. z is softmax's (the one-hot is constant); labels have none.
sce_residual = primitive("sce_residual", _sce_residual_impl)
defvjp(sce_residual, lambda g, ans, z, y: _softmax_linear(g, softmax(z, axis=1), 1), None)
defjvp(sce_residual, lambda z_dot, ans, z, y: _softmax_linear(z_dot, softmax(z, axis=1), 1), None)


def _residual(z, y):
    """softmax(z)·Σ_k y_k − Y: the gradient of ℓ w.r.t. the logits (ŷ − y for one-hot targets)."""
    if _is_labels(y):
        return sce_residual(z, y)
    p = softmax(z, axis=1)
    return subtract(multiply(p, sum_(y, axis=1, keepdims=True)), y)


def _column(g):
    if type(g) is np.ndarray:
        return g[:, None]
    return reshape(g, (shape_of(g)[0], 1))


softmax_cross_entropy = primitive("softmax_cross_entropy", _sce_impl)
defvjp(
    softmax_cross_entropy,
    lambda g, ans, z, y: multiply(_column(g), _residual(z, y)),
    lambda g, ans, z, y: None if _is_labels(y) else multiply(_column(g), negative(log_softmax(z, axis=1))),
)
defjvp(
    softmax_cross_entropy,
    lambda z_dot, ans, z, y: sum_(multiply(z_dot, _residual(z, y)), axis=1),
    lambda y_dot, ans, z, y: sum_(multiply(y_dot, negative(log_softmax(z, axis=1))), axis=1),
)


def _mean_sce_impl(z, y):
    losses = _sce_impl(z, y)
    return np.add.reduce(losses) / max(len(losses), 1)


# The mean over the batch fused in: the training loss of a classifier in one node. Its value
# and gradient are bit for bit those of mean(softmax_cross_entropy(z, y)).
mean_softmax_cross_entropy = primitive("mean_softmax_cross_entropy", _mean_sce_impl)
defvjp(
    mean_softmax_cross_entropy,
    lambda g, ans, z, y: multiply(_residual(z, y), divide(g, max(shape_of(z)[0], 1))),
    None,
)
defjvp(
    mean_softmax_cross_entropy,
    lambda z_dot, ans, z, y: divide(sum_(multiply(z_dot, _residual(z, y))), max(shape_of(z)[0], 1)),
    None,
)
