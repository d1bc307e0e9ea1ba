"""Shared helpers of the nn tests (imported by name: pytest puts this folder on sys.path)."""

import numpy as np

from chainrule import nn

FUSED = ("identity", "relu", "leaky_relu", "tanh", "sigmoid")

# Smallest |z| allowed at a ReLU-family kink when gradient checking. check_grads probes
# x ± εv with ε = 1e-6 and |v| of a few units, so the pre-activations move by ~1e-5 at most;
# 1e-2 keeps every probe (first and second order) on one side of the kink.
KINK_MARGIN = 1e-2


def away_from_zero(rng, shape, margin=0.25):
    """Standard-normal entries pushed at least ``margin`` away from 0 (a ReLU/|·| kink)."""
    z = rng.standard_normal(shape)
    return np.where(z >= 0, z + margin, z - margin)


def preactivations(params, x, prefix="0."):
    """z = x Wᵀ + b of the Dense layer named ``prefix``, in plain NumPy."""
    return x @ params[prefix + "weight"].T + params[prefix + "bias"]


def assert_kink_free(z):
    """A precondition: the gradient check's probes stay on one side of every ReLU kink."""
    assert np.min(np.abs(z)) > KINK_MARGIN, f"test input lies within {KINK_MARGIN} of a kink"


def random_params(model, seed, dtype=np.float64):
    """The model's parameters from ``init(seed)``, with biases and BatchNorm affine terms made random."""
    params = model.init(seed, dtype)
    rng = np.random.default_rng(seed + 1000)
    for k, v in params.items():
        if k.endswith("bias") or v.ndim == 1:
            params[k] = (v + 0.3 * rng.standard_normal(v.shape)).astype(dtype)
    return params


def dense_act(activation, d_in=3, d_out=4, alpha=None):
    """Sequential(Dense, Activation) — the pair the Sequential fuses into one dense primitive."""
    return nn.Sequential(nn.Dense(d_in, d_out), nn.Activation(activation, alpha))
