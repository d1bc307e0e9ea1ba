"""Activation functions σ of the seeds, as functions of a (traced or plain) array.

=============  =====================================  ====================================
name           σ(z)                                   σ'(z)
=============  =====================================  ====================================
identity       z                                      1
sigmoid        1 / (1 + e^−z)                         σ(z)(1 − σ(z))   (at most 1/4)
tanh           tanh z                                 1 − tanh² z
relu           max(z, 0)                              [z > 0]          (relu'(0) = 0)
leaky_relu     z if z > 0 else α z                    1 or α
elu            z if z > 0 else α (e^z − 1)            1 or α e^z
gelu           z Φ(z) = ½ z (1 + erf(z/√2))           Φ(z) + z φ(z)
gelu_tanh      ½ z (1 + tanh(√(2/π)(z + 0.044715 z³)))  (Hendrycks & Gimpel's approximation)
softplus       log(1 + e^z)                           sigmoid(z)
softmax        e^{z_i} / Σ_j e^{z_j}  (last axis)     diag(s) − s sᵀ
=============  =====================================  ====================================
"""

from __future__ import annotations

import math

from .. import numpy as cnp
from ..errors import lookup


def identity(z):
    return z


def leaky_relu(z, alpha=0.01):
    return cnp.where(cnp.greater(z, 0), z, cnp.multiply(alpha, z))


def elu(z, alpha=1.0):
    # expm1 of z clipped to 0 on the unused side: that branch never overflows for large z. The
    # clip is a where, not minimum(z, 0): minimum splits its gradient at the tie z = 0, which
    # made elu'(0) = α/2; the where gives α e⁰ = α, the left derivative, as torch.nn.ELU does.
    positive = cnp.greater(z, 0)
    return cnp.where(positive, z, cnp.multiply(alpha, cnp.expm1(cnp.where(positive, 0.0, z))))


def gelu(z):
    return cnp.multiply(cnp.multiply(0.5, z), cnp.add(1.0, cnp.erf(cnp.multiply(z, 1 / math.sqrt(2)))))


_GELU_C = math.sqrt(2 / math.pi)


def gelu_tanh(z):
    inner = cnp.multiply(_GELU_C, cnp.add(z, cnp.multiply(0.044715, cnp.power(z, 3))))
    return cnp.multiply(cnp.multiply(0.5, z), cnp.add(1.0, cnp.tanh(inner)))


def softmax(z):
    return cnp.softmax(z, axis=-1)


sigmoid = cnp.sigmoid
tanh = cnp.tanh
relu = cnp.relu
softplus = cnp.softplus

ACTIVATIONS = {
    "identity": identity,
    "linear": identity,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "gelu": gelu,
    "gelu_tanh": gelu_tanh,
    "softplus": softplus,
    "softmax": softmax,
}

RELU_FAMILY = ("relu", "leaky_relu", "elu", "gelu", "gelu_tanh")


def check_activation(name):
    """Return ``name`` if it is a known activation, else raise a ValueError listing them."""
    if name is None:
        return "identity"
    lookup(ACTIVATIONS, name, "activation", "activations")
    return name
