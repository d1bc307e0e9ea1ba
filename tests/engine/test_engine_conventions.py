"""Conventions at non-differentiable points, and gradients against PyTorch as an independent truth.

The conventions (those of PyTorch and JAX): relu'(0) = 0; abs'(0) = 0; ``max``/``min`` with
ties split the gradient equally among the tied entries (as ``torch.amax``/``jax.numpy.max``;
``torch.max(x, dim)`` instead sends it all to the returned index); ``maximum(x, y)`` with
x = y gives 1/2 to each; ``clip`` passes the gradient where lo ≤ x ≤ hi, bounds included
(as ``torch.clamp``). Hand values are exact binary fractions (0, 1/2, 1/3 ...), compared with
``assert_array_equal`` or to 1e-15 for thirds (one rounding of 1/3).

Against torch, both sides are float64 evaluations of the same expressions by different
kernels (summation order, fused ops), so they agree to round-off: ε_mach ≈ 2e-16 times the
few dozen operations and the conditioning of these well-scaled inputs stays below 1e-12;
rtol = 1e-11 leaves margin while a wrong rule is off by O(1).
"""

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.numpy as cnp

RTOL_TORCH = 1e-11


def both_modes(f, x):
    """The gradient of a scalar f by reverse mode, and the same by forward mode (one JVP per entry)."""
    g_rev = cr.grad(f)(x)
    g_fwd = np.array([cr.jvp(f, (x,), (e,))[1] for e in np.eye(x.size).reshape((x.size,) + x.shape)])
    return g_rev, g_fwd.reshape(x.shape)


def torch_grad(f, *xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    f(*ts).backward()
    return [t.grad.numpy() for t in ts]


# ---- kinks ------------------------------------------------------------------------------------


def test_relu_derivative_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 2.0])
    for g in both_modes(lambda x: cnp.sum(cnp.relu(x)), x):
        np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(torch_grad(lambda t: torch.relu(t).sum(), x)[0], [0.0, 0.0, 1.0])


def test_relu_second_derivative_is_zero_everywhere():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(cr.hessian(lambda x: cnp.sum(cnp.relu(x)))(x), np.zeros((3, 3)))


def test_abs_derivative_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 2.0])
    for g in both_modes(lambda x: cnp.sum(cnp.abs(x)), x):
        np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(torch_grad(lambda t: torch.abs(t).sum(), x)[0], [-1.0, 0.0, 1.0])


def test_max_with_ties_splits_equally_along_an_axis():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 0.0, 4.0]])
    w = np.array([1.0, 2.0, 3.0])  # distinct weights per row, so a mixed-up row is visible
    third = 2.0 / 3.0
    expected = np.array([[0.0, 0.5, 0.5], [third, third, third], [3.0, 0.0, 0.0]])
    for g in both_modes(lambda x: cnp.sum(w * cnp.max(x, axis=1)), x):
        np.testing.assert_allclose(g, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(
        torch_grad(lambda t: (torch.tensor(w) * torch.amax(t, dim=1)).sum(), x)[0], expected, rtol=1e-15
    )


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("name", ["max", "min"])
def test_extremum_ties_match_torch_amax_amin(name, axis, keepdims):
    x = np.array([[1.0, 3.0, 3.0, -1.0], [3.0, 0.0, 3.0, -1.0], [-1.0, 2.0, 0.5, -1.0]])
    rng = np.random.default_rng(0)
    out_shape = np.shape(getattr(np, name)(x, axis=axis, keepdims=keepdims))
    w = rng.standard_normal(out_shape)
    ours = cr.grad(lambda x: cnp.sum(w * getattr(cnp, name)(x, axis=axis, keepdims=keepdims)))(x)
    t_fn = getattr(torch, "amax" if name == "max" else "amin")
    dim = tuple(range(x.ndim)) if axis is None else axis
    theirs = torch_grad(lambda t: (torch.tensor(w) * t_fn(t, dim=dim, keepdim=keepdims)).sum(), x)[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


def test_maximum_of_equal_arguments_gives_half_to_each():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 5.0, -3.0])  # a tie, then y wins, then x wins
    gx, gy = cr.grad(lambda x, y: cnp.sum(cnp.maximum(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0, 0.0])
    tx, ty = torch_grad(lambda a, b: torch.maximum(a, b).sum(), x, y)
    np.testing.assert_array_equal(tx, gx)
    np.testing.assert_array_equal(ty, gy)
    gx, gy = cr.grad(lambda x, y: cnp.sum(cnp.minimum(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gy, [0.5, 0.0, 1.0])
    # The same node on both sides: halves that add up to the derivative of the identity.
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(cnp.maximum(x, x)))(x), [1.0, 1.0, 1.0])
    _, t = cr.jvp(lambda x, y: cnp.maximum(x, y), (x, y), (np.ones(3), 3 * np.ones(3)))
    np.testing.assert_array_equal(t, [2.0, 3.0, 1.0])  # the tie averages the two tangents


def test_clip_gradient_is_inclusive_at_the_bounds():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 1.5])
    expected = [0.0, 1.0, 1.0, 1.0, 0.0]
    for g in both_modes(lambda x: cnp.sum(cnp.clip(x, -1.0, 1.0)), x):
        np.testing.assert_array_equal(g, expected)
    np.testing.assert_array_equal(torch_grad(lambda t: torch.clamp(t, -1.0, 1.0).sum(), x)[0], expected)


def test_piecewise_constant_functions_have_zero_derivative():
    x = np.array([-1.5, 0.0, 2.5])
    for f in (cnp.sign, cnp.floor, cnp.ceil, cnp.round, cr.stop_gradient):
        np.testing.assert_array_equal(cr.grad(lambda x, f=f: cnp.sum(f(x) * x))(x), f(x))


# ---- gradients against torch ------------------------------------------------------------------

rng = np.random.default_rng(1234)
X = rng.standard_normal((4, 3))
P = rng.uniform(0.5, 2.0, (4, 3))
W1, b1 = rng.standard_normal((5, 3)), rng.standard_normal(5)
W2 = rng.standard_normal((2, 5))
A, B = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((3, 4, 2))

TORCH_CASES = {
    "mlp": (
        lambda x, W1, b1, W2: cnp.sum(cnp.log_softmax(cnp.tanh(x @ W1.T + b1) @ W2.T, axis=-1) ** 2),
        lambda x, W1, b1, W2: (torch.log_softmax(torch.tanh(x @ W1.T + b1) @ W2.T, dim=-1) ** 2).sum(),
        (X, W1, b1, W2),
    ),
    "softmax-sigmoid-softplus-erf": (
        lambda x: cnp.sum(cnp.softmax(x, axis=0) * cnp.sigmoid(x) + cnp.softplus(x) * cnp.erf(x)),
        lambda x: (torch.softmax(x, 0) * torch.sigmoid(x) + torch.nn.functional.softplus(x) * torch.erf(x)).sum(),
        (X,),
    ),
    "logsumexp-keepdims": (
        lambda x: cnp.sum(cnp.logsumexp(x, axis=1, keepdims=True) * x),
        lambda x: (torch.logsumexp(x, 1, keepdim=True) * x).sum(),
        (X,),
    ),
    "var-std-ddof": (
        lambda x: cnp.sum(cnp.var(x, axis=0, ddof=1) * cnp.std(x, axis=1, keepdims=True)),
        lambda x: (torch.var(x, 0, correction=1) * torch.std(x, 1, keepdim=True, correction=0)).sum(),
        (X,),
    ),
    "power-both-args": (
        lambda p, x: cnp.sum(p**x + cnp.log(p) * cnp.sqrt(p) - cnp.expm1(x) * cnp.log1p(p)),
        lambda p, x: (p**x + torch.log(p) * torch.sqrt(p) - torch.expm1(x) * torch.log1p(p)).sum(),
        (P, X),
    ),
    "batched-matmul-broadcast": (
        lambda a, b: cnp.sum(cnp.sin(a @ b) * cnp.cos(a @ b)),
        lambda a, b: (torch.sin(a @ b) * torch.cos(a @ b)).sum(),
        (A, B),
    ),
    "indexing-repeated-and-mask": (
        lambda x: cnp.sum(x[[0, 0, 3], 1:] ** 2) + cnp.sum(x[x > 0] ** 3) + cnp.sum(x[::-1, ::2]),
        lambda x: (x[[0, 0, 3], 1:] ** 2).sum() + (x[x > 0] ** 3).sum() + x.flip(0)[:, ::2].sum(),
        (X,),
    ),
    "concatenate-stack-reshape": (
        lambda x, p: cnp.sum(cnp.reshape(cnp.stack([x, p], axis=1), (4, 6)) * cnp.concatenate([x, p], axis=1)),
        lambda x, p: (torch.stack([x, p], 1).reshape(4, 6) * torch.cat([x, p], 1)).sum(),
        (X, P),
    ),
    "divide-where-clip": (
        lambda x, p: cnp.sum(cnp.where(x > 0, x / p, cnp.clip(x, -0.5, 0.5) * p)),
        lambda x, p: torch.where(x > 0, x / p, torch.clamp(x, -0.5, 0.5) * p).sum(),
        (X, P),
    ),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_gradients_match_torch(name):
    ours_f, torch_f, args = TORCH_CASES[name]
    ours = cr.grad(ours_f, argnums=tuple(range(len(args))))(*args)
    theirs = torch_grad(torch_f, *args)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=RTOL_TORCH, atol=1e-14)


@pytest.mark.parametrize("name", ["mlp", "softmax-sigmoid-softplus-erf", "var-std-ddof"])
def test_hessian_matches_torch(name):
    ours_f, torch_f, args = TORCH_CASES[name]
    x = args[0]
    ours = cr.hessian(lambda x: ours_f(x, *args[1:]))(x)
    rest = [torch.tensor(a) for a in args[1:]]
    theirs = torch.autograd.functional.hessian(lambda t: torch_f(t, *rest), torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=RTOL_TORCH, atol=1e-13)
