"""Networks: ``Sequential`` (a composition of layers), ``Residual`` (a + f(a)) and the ``MLP`` builder.

A network is a composition f = f_L ∘ … ∘ f_1 (seed 000). ``Sequential`` runs its layers in
order and names parameters as ``torch.nn.Sequential`` does (``0.weight``, ``0.bias``,
``2.weight``…), so a state dict saved here loads into PyTorch unchanged.

When a ``Dense`` layer is followed by an activation whose derivative is a function of its
output (identity, relu, leaky_relu, tanh, sigmoid), the two run as one fused ``dense``
primitive (one recorded node per layer); the parameter names and the numbers are the same.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.remat import checkpoint
from ..errors import ConfigError, ShapeError
from . import init as initializers
from .layers import Activation, BatchNorm, Dense, Dropout, Layer


class Context:
    """What a forward pass needs besides parameters: mode, dropout generator, buffers, recorder.

    ``update_buffers=False`` lets layers read the buffers (BatchNorm's running statistics in
    evaluation) without updating them (in training): a recomputation must not count twice.
    """

    __slots__ = ("training", "rng", "buffers", "record", "remat", "update_buffers")

    def __init__(self, training=False, rng=None, buffers=None, record=None, remat=False, update_buffers=True):
        self.training, self.rng, self.buffers, self.record = training, rng, buffers, record
        self.remat, self.update_buffers = remat, update_buffers


class Sequential(Layer):
    """Layers applied in order. x: (batch, d_in) -> (batch, d_out)."""

    kind = "sequential"

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], list | tuple):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is {type(layer).__name__}, not a chainrule layer")
        self.layers = list(layers)
        d = None
        for i, layer in enumerate(self.layers):
            if layer.d_in is not None:
                if d is not None and layer.d_in != d:
                    raise ShapeError(
                        f"Sequential: layer {i} ({type(layer).__name__}) expects {layer.d_in} features "
                        f"but the layer before produces {d}"
                    )
                d = layer.d_out
        self.d_in = next((lay.d_in for lay in self.layers if lay.d_in is not None), None)
        self.d_out = d
        self.params = self.buffers = None
        self.bind("")

    # -- structure ---------------------------------------------------------------------------
    def bind(self, prefix):
        self.prefix = prefix
        for i, layer in enumerate(self.layers):
            layer.bind(f"{prefix}{i}.")
        self._plan = self._compile()

    def _compile(self):
        """Steps (name, function, parameter keys): Dense + a fusable activation become one step."""
        plan, i = [], 0
        while i < len(self.layers):
            layer = self.layers[i]
            nxt = self.layers[i + 1] if i + 1 < len(self.layers) else None
            if isinstance(layer, Dense) and isinstance(nxt, Activation) and nxt.fusable:
                act = "identity" if nxt.name == "linear" else nxt.name
                alpha = 0.01 if nxt.alpha is None else nxt.alpha
                plan.append((str(i + 1), _fused(layer, act, alpha), layer.param_keys()))
                i += 2
            else:
                plan.append((str(i), layer.call, layer.param_keys()))
                i += 1
        return plan

    def param_keys(self):
        return [k for layer in self.layers for k in layer.param_keys()]

    def dense_layers(self):
        """The Dense layers in order (recursively), with their global parameter prefixes."""
        out = []
        for layer in self.layers:
            if isinstance(layer, Dense):
                out.append(layer)
            elif hasattr(layer, "dense_layers"):
                out.extend(layer.dense_layers())
        return out

    # -- parameters ----------------------------------------------------------------------------
    def init_params(self, rng, dtype):
        params, buffers = {}, {}
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                p, b = layer.init_params(rng, dtype, initializers.default_for(self._activation_after(i)))
            else:
                p, b = layer.init_params(rng, dtype)
            if isinstance(layer, Sequential):  # containers already return global names
                params.update(p)
                buffers.update(b)
            else:
                params.update({layer.prefix + k: v for k, v in p.items()})
                buffers.update({layer.prefix + k: v for k, v in b.items()})
        return params, buffers

    def _activation_after(self, i):
        """The activation a Dense layer at position i feeds, looking past BatchNorm and Dropout
        (MLP(batchnorm=True) puts BatchNorm between them); 'identity' if none."""
        for layer in self.layers[i + 1 :]:
            if isinstance(layer, Activation):
                return layer.name
            if not isinstance(layer, BatchNorm | Dropout):
                break
        return "identity"

    def init(self, seed=0, dtype=np.float64):
        """Create (and keep) the parameters from ``seed``; return the parameter dict."""
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, found {dtype}")
        self.params, self.buffers = self.init_params(np.random.default_rng(seed), dtype)
        return self.params

    @property
    def dtype(self):
        return next(iter(self.params.values())).dtype if self.params else None

    def n_params(self):
        """Σ_l (n_l · n_{l−1} + n_l) for dense layers, plus every other parameter."""
        if self.params is None:
            raise ValueError("call init(seed) first")
        return int(sum(np.size(v) for v in self.params.values()))

    def state_keys(self):
        """Parameter and buffer names in torch's state_dict order: layer by layer, parameters first."""
        out = []
        for layer in self.layers:
            if isinstance(layer, Sequential):
                out += layer.state_keys()
            else:
                out += [layer.keys[n] for n in layer.param_names + layer.buffer_names]
        return out

    def state_dict(self):
        """Parameters and buffers under PyTorch's names and in its order (what load_state_dict expects)."""
        merged = {**self.params, **self.buffers}
        return {k: merged[k] for k in self.state_keys()}

    # -- computation ---------------------------------------------------------------------------
    def call(self, params, a, ctx):
        if ctx.remat and len(self._plan) > 2:
            return self._call_checkpointed(params, a, ctx)
        record = ctx.record
        for name, step, _ in self._plan:
            a = step(params, a, ctx)
            if record is not None:
                # A recorder sees each step's output; it may return a replacement (e.g. a + tap,
                # with tap a zero input whose gradient is ∂L/∂a_l) or None to keep a.
                replaced = record(self.prefix + name, a)
                if replaced is not None:
                    a = replaced
        return a

    def _call_checkpointed(self, params, a, ctx):
        """Run the plan in ⌈√L⌉ segments whose activations are recomputed in the backward pass."""
        plan = self._plan
        size = max(1, math.isqrt(len(plan) - 1) + 1)
        for start in range(0, len(plan), size):
            steps = plan[start : start + size]
            keys = [k for _, _, ks in steps for k in ks]
            rng_state = ctx.rng.bit_generator.state if (ctx.training and ctx.rng is not None) else None
            calls = [0]

            def segment(a, *leaves, steps=steps, keys=keys, rng_state=rng_state, calls=calls):
                # The first run advances the caller's generator and updates BatchNorm's running
                # statistics; a re-run (in the backward pass) replays the same dropout masks from
                # a copy of the generator's state and reads, but does not update, the running
                # statistics (evaluation-mode BatchNorm needs them).
                first = calls[0] == 0
                rng = ctx.rng if first or rng_state is None else _generator_at(rng_state)
                inner = Context(ctx.training, rng, ctx.buffers, None, update_buffers=ctx.update_buffers and first)
                calls[0] += 1
                p = dict(zip(keys, leaves))
                for _, step, _ in steps:
                    a = step(p, a, inner)
                return a

            a = checkpoint(segment, f"layers {steps[0][0]}..{steps[-1][0]}")(a, *[params[k] for k in keys])
        return a

    def apply(self, params, x, training=False, rng=None, buffers=None, record=None, remat=False):
        """The network's output for input x: (batch, d_in) -> (batch, d_out).

        ``params`` may be traced (inside ``grad``); ``buffers`` default to the model's own
        (BatchNorm running statistics, updated in place when ``training``).
        """
        if np.ndim(x) != 2:
            raise ShapeError(f"model input must be 2-D (batch, {self.d_in}), found shape {np.shape(x)}")
        if self.d_in is not None and np.shape(x)[1] != self.d_in:
            raise ShapeError(
                f"model expects {self.d_in} input features, found {np.shape(x)[1]} (input shape {np.shape(x)})"
            )
        ctx = Context(training, rng, self.buffers if buffers is None else buffers, record, remat)
        return self.call(params, x, ctx)

    def __call__(self, x):
        if self.params is None:
            raise ValueError("the model has no parameters yet: call model.init(seed) first")
        return self.apply(self.params, np.asarray(x, dtype=self.dtype))

    def config(self):
        return {"type": self.kind, "layers": [layer.config() for layer in self.layers]}

    def __repr__(self):
        inner = ",\n".join("  " + repr(layer).replace("\n", "\n  ") for layer in self.layers)
        return f"{type(self).__name__}(\n{inner}\n)"


def _generator_at(state):
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _fused(layer, activation, alpha):
    def step(params, a, ctx):
        return layer.call(params, a, ctx, activation, alpha)

    return step


def is_pure(layer):
    """Whether ``layer``'s training-mode forward pass depends on its arguments alone — no random
    draws, no state read or updated (Dropout with p > 0, BatchNorm) — the condition for compiling
    a training step with ``chainrule.jit``."""
    from .layers import Activation, Dense, Dropout

    kind = type(layer)  # exact classes: a subclass may add randomness or state of its own
    if kind in (Sequential, Residual):  # (MLP builds a Sequential)
        return all(is_pure(sub) for sub in layer.layers)
    if kind is Dropout:
        return layer.p == 0
    return kind in (Dense, Activation)


def network_fingerprint(model):
    """What a compiled step of ``model`` depends on besides its parameters: its configuration and
    the identity of every layer object (a layer swapped for another with the same configuration
    still changes it). None parts for a model that is not a chainrule network."""
    config = model.config() if callable(getattr(model, "config", None)) else None
    ids = []

    def walk(layer):
        ids.append((type(layer), id(layer)))
        for sub in getattr(layer, "layers", ()):
            walk(sub)

    walk(model)
    return config, tuple(ids)


class Residual(Sequential):
    """a + f(a), where f is the given layers (He et al., 2016). Input and output widths must match.

    The identity path gives the gradient a route around f: ∂(a + f(a))/∂a = I + ∂f/∂a.
    Parameters are named ``<i>.fn.<j>.weight`` (a module with attribute ``fn`` in PyTorch).
    """

    kind = "residual"

    def __init__(self, *layers):
        super().__init__(*layers)
        if self.d_in is not None and self.d_in != self.d_out:
            raise ShapeError(f"Residual: f must keep the width, but maps {self.d_in} -> {self.d_out} features")

    def bind(self, prefix):
        super().bind(prefix + "fn.")
        self.prefix = prefix

    def call(self, params, a, ctx):
        return a + super().call(params, a, ctx)


def MLP(sizes, activation="relu", output_activation=None, init=None, batchnorm=False, dropout=0.0):
    """A multilayer perceptron as a ``Sequential``: Dense(n_0, n_1), σ, Dense(n_1, n_2), σ, …

    sizes: [d_in, hidden..., d_out]. activation: one name for every hidden layer, or a list
    with one name per hidden layer. output_activation: None for logits / linear outputs.
    batchnorm / dropout: insert BatchNorm after each hidden Dense / Dropout(p) after each
    hidden activation.
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(not isinstance(n, int | np.integer) or n <= 0 for n in sizes):
        raise ValueError(f"MLP: sizes must be at least two positive integers, found {sizes}")
    n_hidden = len(sizes) - 2
    acts = activation if isinstance(activation, list | tuple) else [activation] * n_hidden
    if len(acts) != n_hidden:
        raise ValueError(f"MLP: {len(acts)} activations given for {n_hidden} hidden layers")
    layers = []
    for k in range(n_hidden + 1):
        layers.append(Dense(sizes[k], sizes[k + 1], init=init))
        if k < n_hidden:
            if batchnorm:
                layers.append(BatchNorm(sizes[k + 1]))
            layers.append(Activation(acts[k]))
            if dropout:
                layers.append(Dropout(dropout))
        elif output_activation not in (None, "identity", "linear"):
            layers.append(Activation(output_activation))
    return Sequential(layers)


_LAYER_TYPES = {
    "dense": lambda c: Dense(c["d_in"], c["d_out"], c.get("init"), c.get("bias_init", "zeros")),
    "activation": lambda c: Activation(c["name"], c.get("alpha")),
    "batchnorm": lambda c: BatchNorm(c["num_features"], c.get("momentum", 0.1), c.get("eps", 1e-5)),
    "dropout": lambda c: Dropout(c.get("p", 0.5)),
    "sequential": lambda c: Sequential([layer_from_config(x) for x in c["layers"]]),
    "residual": lambda c: Residual([layer_from_config(x) for x in c["layers"]]),
}


def layer_from_config(cfg):
    """Rebuild a layer (or a whole network) from its ``config()`` dict."""
    kind = cfg.get("type") if isinstance(cfg, dict) else None
    if kind not in _LAYER_TYPES:
        raise ConfigError(f"unknown layer type {kind!r}; valid types: {', '.join(_LAYER_TYPES)}")
    try:
        return _LAYER_TYPES[kind](cfg)
    except KeyError as e:
        raise ConfigError(f"layer of type {kind!r} is missing the key {e.args[0]!r}") from None
