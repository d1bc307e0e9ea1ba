"""Layers: configuration in the constructor, parameters from a seeded ``init_params``, computation in ``call``.

Every layer is a small object with

- ``init_params(rng, dtype) -> (params, buffers)``: local names (``weight``, ``bias``,
  ``running_mean``...) as in PyTorch, so a model's state dict matches ``torch.nn``'s;
- ``call(params, a, ctx) -> a``: ``params`` holds the layer's own parameters under their local
  names (a container hands each child its own part); ``ctx`` says whether we are training and
  carries the dropout generator, the layer's own buffers and where new buffer values go.

A layer never knows where it sits in a model, so one layer object can serve in several models.

Staging (compiling a training step with ``chainrule.jit``) needs a training forward pass that
depends on its arguments alone: a layer says so with ``stageable``. A subclass inherits False
unless its own class body sets it, so an unknown layer is never compiled by accident. A
configuration attribute that changes the computation is a ``Setting``: setting it gives the
layer a new ``version``, which is how a compiled step notices a changed network. Versions are
stamps from one ever-increasing clock (``new_version``), and a container's version is the newest
stamp among itself and its layers: any change makes a value the network never had before, so a
compiled step can never mistake a changed network for the one it was traced with.

Shapes: ``a`` is (batch, features) throughout.
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from .. import numpy as cnp
from ..constraints import FINITE_REAL, NON_NEGATIVE_REAL, POSITIVE_INT, PROBABILITY, Interval, Options, validate
from ..engine.core import dtype_of
from ..errors import ConfigError, ShapeError
from ..primitives.nn import FUSED_ACTIVATIONS, dense
from . import init as initializers
from .activations import ACTIVATIONS, check_activation

_clock = itertools.count(1)


def new_version():
    """A stamp newer than every stamp handed out before (see the module docstring)."""
    return next(_clock)


class Setting:
    """A configuration attribute whose every assignment gives its layer a new ``version``."""

    def __set_name__(self, owner, name):
        self.slot = "_" + name

    def __get__(self, layer, owner=None):
        return self if layer is None else layer.__dict__[self.slot]

    def __set__(self, layer, value):
        layer.__dict__[self.slot] = value
        layer.version = new_version()


class Layer:
    """Base class. Subclasses set ``d_in``/``d_out`` (None if shape-preserving)."""

    kind = "layer"
    param_names: tuple = ()
    buffer_names: tuple = ()
    d_in = d_out = None
    stageable = False  # whether the training forward pass may be compiled (see the module docstring)
    version = 0  # a new stamp whenever a Setting of the layer is assigned

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "stageable" not in cls.__dict__:  # not inherited: a subclass may add randomness or state
            cls.stageable = False

    def init_params(self, rng, dtype):
        return {}, {}

    def param_keys(self):
        """The names of this layer's trainable parameters (local: 'weight', 'bias')."""
        return list(self.param_names)

    def state_keys(self):
        """Parameter and buffer names in torch's state_dict order (local)."""
        return list(self.param_names) + list(self.buffer_names)

    def call(self, params, a, ctx):
        raise NotImplementedError

    def config(self):
        return {"type": self.kind}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """z = a Wᵀ + b.  a: (batch, d_in) -> (batch, d_out).  W: (d_out, d_in), b: (d_out,).

    ``init`` names the weight initializer (None: chosen by the activation that follows, He for
    the ReLU family and Xavier otherwise); ``bias_init`` the bias initializer (zeros).
    """

    kind = "dense"
    param_names = ("weight", "bias")
    stageable = True

    # (init and bias_init are checked by nn.init.get, whose messages show the spellings)
    _parameter_constraints = {"d_in": [POSITIVE_INT], "d_out": [POSITIVE_INT]}

    def __init__(self, d_in, d_out, init=None, bias_init="zeros"):
        validate("Dense", self._parameter_constraints, {"d_in": d_in, "d_out": d_out})
        self.d_in, self.d_out = int(d_in), int(d_out)
        self.init_spec = init
        self.bias_init = bias_init
        if init is not None:
            initializers.get(init)
        initializers.get(bias_init)

    def init_params(self, rng, dtype, default_init="xavier_normal"):
        W = initializers.get(self.init_spec or default_init)(rng, (self.d_out, self.d_in), dtype)
        b = initializers.get(self.bias_init)(rng, (1, self.d_out), dtype).reshape(self.d_out)
        return {"weight": np.ascontiguousarray(W, dtype=dtype), "bias": b.astype(dtype)}, {}

    def call(self, params, a, ctx, activation="identity", alpha=0.01):
        return dense(a, params["weight"], params["bias"], activation=activation, alpha=alpha)

    def config(self):
        return {"type": self.kind, "d_in": self.d_in, "d_out": self.d_out, "init": self.init_spec,
                "bias_init": self.bias_init}


class Activation(Layer):
    """An elementwise nonlinearity σ (see ``chainrule.nn.activations``); no parameters."""

    kind = "activation"
    stageable = True
    name = Setting()
    alpha = Setting()

    _parameter_constraints = {"name": [None, str], "alpha": [None, FINITE_REAL]}

    def __init__(self, name="relu", alpha=None):
        validate("Activation", self._parameter_constraints, {"name": name, "alpha": alpha})
        self.name = check_activation(name)
        self.alpha = alpha

    @property
    def fn(self):
        return ACTIVATIONS[self.name]

    @property
    def fusable(self):
        return self.name in FUSED_ACTIVATIONS or self.name == "linear"

    def call(self, params, a, ctx):
        if self.alpha is not None:
            return ACTIVATIONS[self.name](a, self.alpha)
        return ACTIVATIONS[self.name](a)

    def config(self):
        cfg = {"type": self.kind, "name": self.name}
        if self.alpha is not None:
            cfg["alpha"] = self.alpha
        return cfg


def Identity():
    return Activation("identity")


def Sigmoid():
    return Activation("sigmoid")


def Tanh():
    return Activation("tanh")


def ReLU():
    return Activation("relu")


def LeakyReLU(alpha=0.01):
    validate("LeakyReLU", {"alpha": [FINITE_REAL]}, {"alpha": alpha})
    return Activation("leaky_relu", alpha)


def ELU(alpha=1.0):
    validate("ELU", {"alpha": [FINITE_REAL]}, {"alpha": alpha})
    return Activation("elu", alpha)


def GELU(approximate="none"):
    validate("GELU", {"approximate": [Options(str, ("none", "tanh"))]}, {"approximate": approximate})
    return Activation("gelu_tanh" if approximate == "tanh" else "gelu")


def Softplus():
    return Activation("softplus")


def Softmax():
    return Activation("softmax")


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) over the batch axis, as torch.nn.BatchNorm1d.

    Training: x̂ = (x − μ_B) / √(σ²_B + ε) with the batch mean and *biased* variance, then
    y = γ x̂ + β; the new running statistics r' = (1 − momentum) r + momentum · stat (the running
    variance uses the unbiased σ²) are *returned* through ``ctx.updates``, never written into the
    buffers, so a training step with BatchNorm can be compiled.
    Evaluation: the running statistics (``ctx.buffers``) replace the batch ones.
    """

    kind = "batchnorm"
    param_names = ("weight", "bias")
    buffer_names = ("running_mean", "running_var", "num_batches_tracked")
    stageable = True
    momentum = Setting()
    eps = Setting()

    # eps = 0 is allowed: the experiment batchnorm_gradient checks the closed form at ε = 0.
    _parameter_constraints = {"num_features": [POSITIVE_INT], "momentum": [PROBABILITY], "eps": [NON_NEGATIVE_REAL]}

    def __init__(self, num_features, momentum=0.1, eps=1e-5):
        validate("BatchNorm", self._parameter_constraints, {"num_features": num_features, "momentum": momentum,
                                                             "eps": eps})
        self.d_in = self.d_out = int(num_features)
        self.momentum, self.eps = float(momentum), float(eps)

    def init_params(self, rng, dtype):
        n = self.d_in
        params = {"weight": np.ones(n, dtype), "bias": np.zeros(n, dtype)}
        buffers = {"running_mean": np.zeros(n, dtype), "running_var": np.ones(n, dtype),
                   "num_batches_tracked": np.zeros((), np.int64)}
        return params, buffers

    def call(self, params, a, ctx):
        gamma, beta = params["weight"], params["bias"]
        if ctx.training:
            n = a.shape[0]
            if n < 2:
                raise ShapeError(f"BatchNorm in training mode needs a batch of at least 2, found {n}")
            mu = cnp.mean(a, axis=0)
            var = cnp.var(a, axis=0)
            if ctx.buffers is not None and ctx.updates is not None:
                ctx.updates.update(self.running(ctx.buffers, cnp.stop_gradient(mu), cnp.stop_gradient(var), n))
        else:
            if ctx.buffers is None:
                raise ConfigError("BatchNorm in evaluation mode needs the running statistics: pass buffers=")
            mu, var = ctx.buffers["running_mean"], ctx.buffers["running_var"]
        x_hat = (a - mu) / cnp.sqrt(var + self.eps)
        return x_hat * gamma + beta

    def running(self, buffers, mu, var, n):
        """The buffers after one training batch with statistics (μ_B, biased σ²_B) of n rows."""
        m = self.momentum
        count = buffers["num_batches_tracked"] + 1
        if isinstance(count, np.generic):  # NumPy made a scalar of the 0-d array: keep an array
            count = np.asarray(count)
        return {"running_mean": buffers["running_mean"] * (1 - m) + m * mu,
                "running_var": buffers["running_var"] * (1 - m) + m * (var * (n / (n - 1))),
                "num_batches_tracked": count}

    def config(self):
        return {"type": self.kind, "num_features": self.d_in, "momentum": self.momentum, "eps": self.eps}


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability p and scale by 1/(1 − p)."""

    kind = "dropout"
    p = Setting()

    @property
    def stageable(self):
        return self.p == 0  # dropout draws from a generator: only the identity can be compiled

    _parameter_constraints = {"p": [Interval(numbers.Real, 0, 1, closed="left")]}

    def __init__(self, p=0.5):
        validate("Dropout", self._parameter_constraints, {"p": p})
        self.p = float(p)

    def call(self, params, a, ctx):
        if not ctx.training or self.p == 0:
            return a
        if ctx.rng is None:
            raise ConfigError("Dropout in training mode needs a seeded generator: pass rng= to apply()")
        keep = ctx.rng.random(a.shape) >= self.p
        return a * (keep / (1 - self.p)).astype(dtype_of(a))

    def config(self):
        return {"type": self.kind, "p": self.p}
