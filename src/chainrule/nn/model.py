"""Networks: ``Sequential`` (a composition of layers), ``Residual`` (a + f(a)) and the ``MLP`` builder.

A network is a composition f = f_L ∘ … ∘ f_1 (seed 000). Its parameters are a flat dict whose
keys are paths relative to the network, as ``torch.nn.Sequential`` names them (``0.weight``,
``2.0.weight`` for a nested network, ``1.fn.0.weight`` inside a Residual), so a state dict saved
here loads into PyTorch unchanged. Each container hands each child only its own part, renamed to
the child's local names (a nested network receives ``{'0.weight': ...}``): no layer knows where
it sits, so one layer object may serve in two models and a nested model still works alone.

When a ``Dense`` layer is followed by an activation whose derivative is a function of its
output (identity, relu, leaky_relu, tanh, sigmoid), the two run as one fused ``dense``
primitive (one recorded node per layer; ``nn.fusion``); the parameter names and the numbers
are the same.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping

import numpy as np

from ..constraints import NON_NEGATIVE_INT, POSITIVE_INT, Interval, ListOf, validate
from ..engine.remat import checkpoint
from ..errors import ArgumentTypeError, ConfigError, DataError, InvalidArgumentError, ShapeError
from . import init as initializers
from .fusion import fusion_plan
from .layers import Activation, BatchNorm, Dense, Dropout, Layer, new_version
from .standardize import Standardize


class Context:
    """What a forward pass needs besides parameters: mode, dropout generator, buffers, recorder.

    ``buffers`` holds the running layer's own buffers (local names; a container hands each child
    its part). ``updates``: a dict into which layers put new buffer values in training (BatchNorm's
    running statistics; a container renames them to its own names), or None not to collect them
    (evaluation, or a recomputation that must not count a batch twice).
    """

    __slots__ = ("training", "rng", "buffers", "record", "remat", "updates")

    def __init__(self, training=False, rng=None, buffers=None, record=None, remat=False, updates=None):
        self.training, self.rng, self.buffers, self.record = training, rng, buffers, record
        self.remat, self.updates = remat, updates


class LayerList(list):
    """A container's list of layers: any change (a layer swapped, added, removed) moves the
    container's version and rebuilds its plan."""

    def __init__(self, owner, layers):
        super().__init__(layers)
        self.owner = owner

    def __reduce_ex__(self, protocol):  # copies are plain lists (the owner sets its own)
        return list, (list(self),)


def _notifying(method):
    def changed(self, *args, **kwargs):
        before = list(self)
        out = method(self, *args, **kwargs)
        self.owner._layers_changed(before, strict=False)  # (one swap of several may pass through bad widths)
        return out

    changed.__name__ = method.__name__
    return changed


for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop", "remove",
              "clear", "reverse", "sort"):
    setattr(LayerList, _name, _notifying(getattr(list, _name)))


class Sequential(Layer):
    """Layers applied in order. x: (batch, d_in) -> (batch, d_out).

    Parameter and buffer names are paths relative to the container, as in ``torch.nn.Sequential``:
    ``0.weight``, ``2.0.weight`` for a nested container, ``1.fn.0.weight`` inside a Residual. The
    container's plan maps each child's local names to these; at call time each child receives
    only its own part, renamed to its local names.
    """

    kind = "sequential"
    _param_prefix = ""  # what the child names start with before the index (Residual: 'fn.')

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], list | tuple):
            layers = tuple(layers[0])
        if not layers:
            raise ConfigError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ArgumentTypeError(f"{type(self).__name__}(layers=...): item {i} is {type(layer).__name__}, "
                                        "not a chainrule layer")
        self._revision = 0
        self.params = self.buffers = None
        self.layers = layers

    def __getstate__(self):
        """For copy/deepcopy: the plan holds functions bound to these very layers, so a copy
        rebuilds its own from its (copied) layers instead of sharing the original's."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("_plan", "_stateful")}
        state["_layers"] = list(self._layers)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._layers = LayerList(self, state["_layers"])
        self._build()

    # -- structure ---------------------------------------------------------------------------
    @property
    def layers(self):
        return self._layers

    @layers.setter
    def layers(self, layers):
        before = list(getattr(self, "_layers", ()))
        self._layers = LayerList(self, layers)
        self._layers_changed(before)

    def _layers_changed(self, before, strict=True):
        self._revision = new_version()  # newer than every layer's, removed ones included
        self._check_widths(strict)
        self._build()

    def _check_widths(self, strict=True):
        d = None
        for i, layer in enumerate(self._layers):
            if layer.d_in is not None:
                if strict and d is not None and layer.d_in != d:
                    raise ShapeError(
                        f"Sequential: layer {i} ({type(layer).__name__}) expects {layer.d_in} features "
                        f"but the layer before produces {d}"
                    )
                d = layer.d_out
        self.d_in = next((lay.d_in for lay in self._layers if lay.d_in is not None), None)
        self.d_out = d

    @property
    def version(self):
        """The newest stamp of the container and its layers (at any depth): a new value whenever a
        layer is swapped, added or removed or a Setting is assigned; what a compiled step checks."""
        return max(self._revision, max(map(_version_of, self._layers)))

    @property
    def stageable(self):
        return all(layer.stageable for layer in self._layers)

    def child_prefix(self, i):
        """What the names of layer i's parameters start with, relative to this container ('2.', 'fn.2.')."""
        return f"{self._param_prefix}{i}."

    def _build(self):
        """The plan: one (record name, function, parameter names) per step of ``fusion_plan``."""
        layers = self._layers
        self._built_version = self.version
        plan = fusion_plan(layers)
        self._plan = [(step.name, _step_function(self, layers, step), self._step_keys(step)) for step in plan]
        self._stateful = {step.name for step in plan
                          if any(layers[i].buffer_names for i in range(step.start, step.stop + 1))}
        self.param_names = tuple(k for i, layer in enumerate(layers)
                                 for k in _prefixed(self.child_prefix(i), layer.param_names))
        self.buffer_names = tuple(k for i, layer in enumerate(layers)
                                  for k in _prefixed(self.child_prefix(i), layer.buffer_names))

    def _step_keys(self, step):
        return [k for i in range(step.start, step.stop + 1)
                for k in _prefixed(self.child_prefix(i), self._layers[i].param_names)]

    def _fresh(self):
        """Rebuild the plans if a layer (at any depth) changed since they were made."""
        if self._built_version != self.version:
            for layer in self._layers:
                if isinstance(layer, Sequential):
                    layer._fresh()
            self._build()

    def param_keys(self):
        return list(self.param_names)

    def state_keys(self):
        """Parameter and buffer names in torch's state_dict order: layer by layer, parameters first."""
        return [k for i, layer in enumerate(self._layers) for k in _prefixed(self.child_prefix(i), layer.state_keys())]

    def dense_layers(self):
        """The Dense layers in order (recursively)."""
        out = []
        for layer in self._layers:
            if isinstance(layer, Dense):
                out.append(layer)
            elif hasattr(layer, "dense_layers"):
                out.extend(layer.dense_layers())
        return out

    # -- parameters ----------------------------------------------------------------------------
    def init_params(self, rng, dtype):
        """(params, buffers) under names relative to this container, drawn layer by layer from ``rng``."""
        self._fresh()
        params, buffers = {}, {}
        follows = {step.start: step.activation for step in fusion_plan(self._layers) if step.activation is not None}
        for i, layer in enumerate(self._layers):
            if i in follows:
                p, b = layer.init_params(rng, dtype, initializers.default_for(follows[i]))
            else:
                p, b = layer.init_params(rng, dtype)
            prefix = self.child_prefix(i)
            params.update({prefix + k: v for k, v in p.items()})
            buffers.update({prefix + k: v for k, v in b.items()})
        return params, buffers

    def init(self, seed=0, dtype=np.float64):
        """Create (and keep) the parameters from ``seed``; return the parameter dict."""
        validate(f"{type(self).__name__}.init", _INIT_CONSTRAINTS, {"seed": seed})
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be float32 or float64, found {dtype}")
        self.params, self.buffers = self.init_params(np.random.default_rng(seed), dtype)
        return self.params

    @property
    def dtype(self):
        return next(iter(self.params.values())).dtype if self.params else None

    def n_params(self):
        """Σ_l (n_l · n_{l−1} + n_l) for dense layers, plus every other parameter."""
        if self.params is None:
            raise ConfigError("call init(seed) first")
        return int(sum(np.size(v) for v in self.params.values()))

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
                replaced = record(name, a)
                if replaced is not None:
                    a = replaced
        return a

    def _call_checkpointed(self, params, a, ctx):
        """Run the plan in ⌈√L⌉ segments whose activations are recomputed in the backward pass.

        A step with buffers (BatchNorm, or a container holding one) runs outside the segments,
        recorded as usual: its new running statistics are counted once, by the one forward run."""
        plan = self._plan
        size = max(1, math.isqrt(len(plan) - 1) + 1)
        stateful = self._stateful
        for start in range(0, len(plan), size):
            segment_steps = plan[start : start + size]
            runs, current = [], []
            for step in segment_steps:
                if step[0] in stateful:
                    runs += [current, [step]] if current else [[step]]
                    current = []
                else:
                    current.append(step)
            if current:
                runs.append(current)
            for steps in runs:
                if steps[0][0] in stateful:
                    a = steps[0][1](params, a, Context(ctx.training, ctx.rng, ctx.buffers, None, False, ctx.updates))
                else:
                    a = self._segment(params, a, ctx, steps)
        return a

    def _segment(self, params, a, ctx, steps):
        keys = [k for _, _, ks in steps for k in ks]
        rng_state = ctx.rng.bit_generator.state if (ctx.training and ctx.rng is not None) else None
        calls = [0]

        def segment(a, *leaves):
            # The first run advances the caller's generator; a re-run (in the backward pass)
            # replays the same dropout masks from a copy of the generator's state.
            first = calls[0] == 0
            rng = ctx.rng if first or rng_state is None else _generator_at(rng_state)
            inner = Context(ctx.training, rng, ctx.buffers)
            calls[0] += 1
            p = dict(zip(keys, leaves))
            for _, step, _ in steps:
                a = step(p, a, inner)
            return a

        return checkpoint(segment, f"layers {steps[0][0]}..{steps[-1][0]}")(a, *[params[k] for k in keys])

    def apply(self, params, x, training=False, rng=None, buffers=None, record=None, remat=False,
              return_state=False):
        """The network's output for input x: (batch, d_in) -> (batch, d_out).

        ``params`` may be traced (inside ``grad``); ``buffers`` default to the model's own and are
        never written. With ``return_state=True`` the result is ``(output, new_buffers)``:
        ``new_buffers`` has every buffer, with the running statistics BatchNorm computed from this
        batch in training (the given buffers themselves when nothing moved, as in evaluation).
        Assign it (``model.buffers =``) to make the batch count.
        """
        if np.ndim(x) != 2:
            raise ShapeError(f"model input must be 2-D (batch, {self.d_in}), found shape {np.shape(x)}")
        if self.d_in is not None and np.shape(x)[1] != self.d_in:
            raise ShapeError(
                f"model expects {self.d_in} input features, found {np.shape(x)[1]} (input shape {np.shape(x)})"
            )
        if getattr(getattr(x, "dtype", None), "kind", "f") not in "fiub":
            raise DataError(f"{type(self).__name__}.apply(x): expected real numbers, got an array of dtype {x.dtype}")
        if self._built_version != self.version:
            self._fresh()
        buffers = self.buffers if buffers is None else buffers
        updates = {} if training and return_state else None
        try:  # (no cost unless something is missing: then the error names what)
            out = self.call(params, x, Context(training, rng, buffers, record, remat, updates))
        except (KeyError, TypeError) as e:
            self._explain_missing(params, buffers, e)
            raise
        if not return_state:
            return out
        if not updates:  # nothing moved: the buffers as they were (no copy on the hot path)
            return out, {} if buffers is None else buffers
        return out, {**buffers, **updates}

    def _explain_missing(self, params, buffers, error):
        """Turn a KeyError/TypeError from a missing parameter or buffer into an error naming it."""
        owner = f"{type(self).__name__}.apply"
        for name, given, keys in (("params", params, self.param_names), ("buffers", buffers, self.buffer_names)):
            if not keys:
                continue
            if not isinstance(given, Mapping):
                raise ArgumentTypeError(f"{owner}({name}): expected a dict {{name: array}} with keys "
                                        f"{_listed(keys)}, got {type(given).__name__}") from None
            missing = [k for k in keys if k not in given]
            if missing:
                raise InvalidArgumentError(f"{owner}({name}): missing {_listed(missing)} "
                                           f"(expected keys: {_listed(keys)})") from None

    def __call__(self, x):
        if self.params is None:
            raise ConfigError("the model has no parameters yet: call model.init(seed) first")
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":  # (before the cast, which would drop an imaginary part)
            raise DataError(f"{type(self).__name__}.apply(x): expected real numbers, got an array of dtype {x.dtype}")
        return self.apply(self.params, x.astype(self.dtype, copy=False))

    def config(self):
        return {"type": self.kind, "layers": [layer.config() for layer in self._layers]}

    def __repr__(self):
        inner = ",\n".join("  " + repr(layer).replace("\n", "\n  ") for layer in self._layers)
        return f"{type(self).__name__}(\n{inner}\n)"


_version_of = operator.attrgetter("version")
_INIT_CONSTRAINTS = {"seed": [NON_NEGATIVE_INT, np.random.Generator, np.random.SeedSequence]}


def _listed(keys, limit=8):
    keys = list(keys)
    shown = ", ".join(map(repr, keys[:limit]))
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _prefixed(prefix, names):
    return [prefix + n for n in names]


def _generator_at(state):
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _step_function(seq, layers, step):
    """``f(params, a, ctx)`` for one step of ``seq``: each layer gets its own parameters (and
    buffers) under its local names, and its new buffers come back under ``seq``'s names."""
    if step.fused:
        dense_layer, prefix = layers[step.start], seq.child_prefix(step.start)
        w, b, activation, alpha = prefix + "weight", prefix + "bias", step.activation, step.alpha

        def fused(params, a, ctx):
            return dense_layer.call({"weight": params[w], "bias": params[b]}, a, ctx, activation, alpha)

        return fused
    i = step.start
    return _child_function(layers[i], seq.child_prefix(i), f"{i}.")


def _child_function(layer, prefix, record_prefix):
    call = layer.call
    param_pairs = tuple((k, prefix + k) for k in layer.param_names)
    buffer_pairs = tuple((k, prefix + k) for k in layer.buffer_names)
    container = isinstance(layer, Sequential)
    if not buffer_pairs and not container:
        if not param_pairs:
            return lambda params, a, ctx: call({}, a, ctx)
        return lambda params, a, ctx: call({k: params[r] for k, r in param_pairs}, a, ctx)

    def child(params, a, ctx):
        own = {k: params[r] for k, r in param_pairs}
        buffers = ctx.buffers
        if buffers is not None and buffer_pairs:
            buffers = {k: buffers[r] for k, r in buffer_pairs}
        record = ctx.record
        if record is not None:
            record = _prefixed_record(record, record_prefix)
        updates = {} if ctx.updates is not None and buffer_pairs else None
        a = call(own, a, Context(ctx.training, ctx.rng, buffers, record, ctx.remat, updates))
        if updates:
            ctx.updates.update({prefix + k: v for k, v in updates.items()})
        return a

    return child


def _prefixed_record(record, prefix):
    return lambda name, a: record(prefix + name, a)


def is_stageable(model):
    """Whether ``model``'s training forward pass may be compiled (its ``stageable``; False for a
    model that does not say)."""
    return bool(getattr(model, "stageable", False))


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
    Parameters are named ``fn.<j>.weight`` (a module with attribute ``fn`` in PyTorch).
    """

    kind = "residual"
    _param_prefix = "fn."

    @property
    def stageable(self):
        return all(layer.stageable for layer in self.layers)

    def __init__(self, *layers):
        super().__init__(*layers)
        if self.d_in is not None and self.d_in != self.d_out:
            raise ShapeError(f"Residual: f must keep the width, but maps {self.d_in} -> {self.d_out} features")

    def call(self, params, a, ctx):
        return a + super().call(params, a, ctx)


def MLP(sizes, activation="relu", output_activation=None, init=None, batchnorm=False, dropout=0.0):
    """A multilayer perceptron as a ``Sequential``: Dense(n_0, n_1), σ, Dense(n_1, n_2), σ, …

    sizes: [d_in, hidden..., d_out]. activation: one name for every hidden layer, or a list
    with one name per hidden layer. output_activation: None for logits / linear outputs.
    batchnorm / dropout: insert BatchNorm after each hidden Dense / Dropout(p) after each
    hidden activation.
    """
    validate("MLP", _MLP_CONSTRAINTS, {"sizes": sizes, "activation": activation,
                                       "output_activation": output_activation,
                                       "batchnorm": batchnorm, "dropout": dropout})
    sizes = [int(n) for n in sizes]
    n_hidden = len(sizes) - 2
    acts = activation if isinstance(activation, list | tuple) else [activation] * n_hidden
    if len(acts) != n_hidden:
        raise ConfigError(f"MLP: {len(acts)} activations given for {n_hidden} hidden layers")
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


_MLP_CONSTRAINTS = {
    "sizes": [ListOf(POSITIVE_INT, min_len=2, types=(list, tuple, np.ndarray))],
    "activation": [None, str, ListOf(str)],
    "output_activation": [None, str],
    # (init is checked by nn.init.get, whose messages show the spellings)
    "batchnorm": ["boolean"],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
}


_LAYER_TYPES = {
    "dense": lambda c: Dense(c["d_in"], c["d_out"], c.get("init"), c.get("bias_init", "zeros")),
    "activation": lambda c: Activation(c["name"], c.get("alpha")),
    "batchnorm": lambda c: BatchNorm(c["num_features"], c.get("momentum", 0.1), c.get("eps", 1e-5)),
    "dropout": lambda c: Dropout(c.get("p", 0.5)),
    "standardize": lambda c: Standardize.of_width(c["num_features"]),
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
