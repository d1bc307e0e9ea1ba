"""chainrule networks to PyTorch and back, with the same numbers.

    module = to_torch(model_or_run_dir)        # a torch.nn.Sequential in the model's dtype, eval mode
    model = from_torch(torch_sequential)       # an initialized chainrule Sequential
    write_torch_script(run_dir, "model.py")    # a standalone file that builds it and loads the weights

chainrule's state-dict names are torch's already (``0.weight``, ``2.running_mean``, ``1.fn.0.bias``),
so the weights move by ``load_state_dict(strict=True)``. Each chainrule layer has exactly one torch
counterpart, given once in ``_spec`` as (class name, arguments); ``to_torch`` builds it and
``write_torch_script`` writes it as source, so the two cannot disagree. Only layers whose torch
counterpart computes the same function are mapped: chainrule's softplus is log(1 + eᶻ) everywhere,
torch.nn.Softplus returns z above its threshold (20), so softplus is refused both ways.
"""

from __future__ import annotations

import ast
import hashlib
import math
import os
from pathlib import Path

import numpy as np

from ..errors import ArgumentTypeError, ConfigError, OptionalDependencyError
from ..nn.layers import GELU, Activation, BatchNorm, Dense, Dropout
from ..nn.model import Residual, Sequential
from ..nn.standardize import Standardize, leading_standardize

# chainrule activation -> (torch.nn class, its keyword for alpha or None, alpha's default, fixed keywords)
_ACTIVATIONS = {
    "identity": ("Identity", None, None, {}),
    "linear": ("Identity", None, None, {}),
    "sigmoid": ("Sigmoid", None, None, {}),
    "tanh": ("Tanh", None, None, {}),
    "relu": ("ReLU", None, None, {}),
    "leaky_relu": ("LeakyReLU", "negative_slope", 0.01, {}),
    "elu": ("ELU", "alpha", 1.0, {}),
    "gelu": ("GELU", None, None, {}),
    "gelu_tanh": ("GELU", None, None, {"approximate": "tanh"}),
    "softmax": ("Softmax", None, None, {"dim": -1}),
}
_REFUSED = {"softplus": "torch.nn.Softplus returns z itself above its threshold (20), chainrule's softplus "
                        "does not (they differ by up to 2e-9 there)"}
_SUPPORTED_CHAINRULE = ("Dense, BatchNorm, Dropout, Standardize, Sequential, Residual and the activations "
                        + ", ".join(sorted(set(_ACTIVATIONS) - {"linear"})))
_SUPPORTED_TORCH = ("Linear (with bias), BatchNorm1d (affine, with running statistics and a momentum), Dropout, "
                    "Identity, ReLU, Sigmoid, Tanh, LeakyReLU, ELU, GELU, Softmax(dim=-1 or 1), nested Sequential, "
                    "and chainrule's own Standardize and Residual")
_DTYPES = ("float32", "float64")


def _torch(who):
    try:
        import torch
    except ImportError:
        raise OptionalDependencyError(f"{who} needs PyTorch, which is not installed: pip install torch") from None
    return torch


# -- chainrule -> torch ------------------------------------------------------------------------

def _number(value, who):
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{who} must be finite to export, found {value}")
    return value


def _spec(layer, where, fmt="PyTorch"):
    """The torch counterpart of ``layer``: ('Sequential' | 'Residual', [child specs]) for a
    container, else (class name, positional args, keyword args) of plain ints, floats and
    strings from this module's tables. ``where`` names the layer in errors ('layer 2.fn.0')."""
    if isinstance(layer, Sequential):
        children = [_spec(child, f"{where}{i}.", fmt) for i, child in enumerate(layer.layers)]
        return ("Residual" if isinstance(layer, Residual) else "Sequential", children)
    name = f"layer {where[:-1]} ({type(layer).__name__})"
    if type(layer) is Dense:
        return ("Linear", (int(layer.d_in), int(layer.d_out)), {})
    if type(layer) is BatchNorm:
        return ("BatchNorm1d", (int(layer.d_in),), {"eps": _number(layer.eps, f"{name}: eps"),
                                                     "momentum": _number(layer.momentum, f"{name}: momentum")})
    if type(layer) is Dropout:
        return ("Dropout", (), {"p": _number(layer.p, f"{name}: p")})
    if type(layer) is Standardize:
        return ("Standardize", (int(layer.d_in),), {})
    if type(layer) is Activation:
        if layer.name in _REFUSED:
            raise ConfigError(f"{name}: the activation {layer.name!r} cannot be exported to {fmt}: "
                              f"{_REFUSED[layer.name]}")
        cls, keyword, default, fixed = _ACTIVATIONS[layer.name]
        if keyword is None:
            if layer.alpha is not None:
                raise ConfigError(f"{name}: the activation {layer.name!r} takes no alpha, found alpha={layer.alpha}")
            return (cls, (), dict(fixed))
        alpha = default if layer.alpha is None else layer.alpha
        return (cls, (), {keyword: _number(alpha, f"{name}: alpha"), **fixed})
    raise ConfigError(f"{name} cannot be exported to {fmt}: supported are {_SUPPORTED_CHAINRULE}")


def _build(spec, torch):
    from . import torch_modules

    kind = spec[0]
    if kind in ("Sequential", "Residual"):
        children = [_build(child, torch) for child in spec[1]]
        return torch.nn.Sequential(*children) if kind == "Sequential" else torch_modules.Residual(*children)
    cls = torch_modules.Standardize if kind == "Standardize" else getattr(torch.nn, kind)
    return cls(*spec[1], **spec[2])


def _network(model_or_run, who):
    """(model, legacy): the chainrule network, and (mean, scale) when it is a run folder written
    before ``nn.Standardize`` (the statistics in preprocessing.json, not in the model), else None."""
    from ..runs.loaded import LoadedRun, load_run

    if isinstance(model_or_run, str | os.PathLike):
        model_or_run = load_run(model_or_run)
    if isinstance(model_or_run, LoadedRun):
        prep, model = model_or_run.preprocessing, model_or_run.model
        legacy = None
        if prep.get("standardize") and leading_standardize(model) is None:
            legacy = (np.asarray(prep["mean"], np.float64), np.asarray(prep["scale"], np.float64))  # (checked)
        return model, legacy
    if not isinstance(model_or_run, Sequential):
        raise ArgumentTypeError(f"{who}: expected a chainrule network (nn.Sequential) or a run folder, "
                                f"found {type(model_or_run).__name__}")
    if model_or_run.params is None:
        raise ConfigError(f"{who}: the model has no parameters yet: call model.init(seed) first")
    return model_or_run, None


def to_torch(model_or_run):
    """The chainrule network (or a run folder's) as a ``torch.nn.Sequential`` with its weights and
    buffers, in the model's dtype and in evaluation mode (``.train()`` for training mode). A run
    written before ``nn.Standardize`` gets its standardization as the first module."""
    torch = _torch("to_torch")
    from .torch_modules import Standardize as TorchStandardize

    model, legacy = _network(model_or_run, "to_torch")
    dtype = getattr(torch, model.dtype.name)
    module = _build(_spec(model, ""), torch).to(dtype)
    module.load_state_dict({k: torch.from_numpy(np.array(v, copy=True)) for k, v in model.state_dict().items()},
                           strict=True)
    if legacy is not None:
        first = TorchStandardize(model.d_in).to(dtype)
        first.mean.copy_(torch.tensor(legacy[0], dtype=dtype))
        first.scale.copy_(torch.tensor(legacy[1], dtype=dtype))
        module = torch.nn.Sequential(first, *module)
    return module.eval()


# -- torch -> chainrule ------------------------------------------------------------------------

def _layer_from(module, path, torch):
    from . import torch_modules

    kind = type(module)
    where = f"module {path!r} ({kind.__name__})" if path else f"the module ({kind.__name__})"
    if kind is torch.nn.Sequential or kind is torch_modules.Residual:
        children = module if kind is torch.nn.Sequential else module.fn
        if len(children) == 0:
            raise ConfigError(f"from_torch: {where} is empty; a chainrule network needs at least one layer")
        layers = [_layer_from(child, f"{path}.{name}" if path else name, torch) for name, child in
                  (children.named_children() if kind is torch.nn.Sequential else
                   ((f"fn.{n}", c) for n, c in children.named_children()))]
        return Sequential(layers) if kind is torch.nn.Sequential else Residual(layers)
    nn = torch.nn
    if kind is nn.Linear:
        if module.bias is None:
            raise ConfigError(f"from_torch: {where} has no bias; chainrule's Dense always has one "
                              "(use bias=True, with a zero bias)")
        return Dense(module.in_features, module.out_features)
    if kind is nn.BatchNorm1d:
        if not (module.affine and module.track_running_stats) or module.momentum is None:
            raise ConfigError(f"from_torch: {where} must have affine=True, track_running_stats=True and a momentum "
                              f"(not None), found affine={module.affine}, track_running_stats="
                              f"{module.track_running_stats}, momentum={module.momentum}")
        return BatchNorm(module.num_features, momentum=module.momentum, eps=module.eps)
    if kind is nn.Dropout:
        return Dropout(module.p)
    if kind is torch_modules.Standardize:
        return Standardize.of_width(int(module.mean.shape[0]))
    simple = {nn.Identity: "identity", nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
    if kind in simple:
        return Activation(simple[kind])
    if kind is nn.LeakyReLU:
        return Activation("leaky_relu", float(module.negative_slope))
    if kind is nn.ELU:
        return Activation("elu", float(module.alpha))
    if kind is nn.GELU:
        return GELU(module.approximate)
    if kind is nn.Softmax:
        if module.dim not in (-1, 1):
            raise ConfigError(f"from_torch: {where} must take the softmax over the features (dim=-1 or 1), "
                              f"found dim={module.dim}")
        return Activation("softmax")
    if kind is nn.Softplus:
        raise ConfigError(f"from_torch: {where} is not supported: {_REFUSED['softplus']}")
    raise ConfigError(f"from_torch: {where} is not supported; supported are {_SUPPORTED_TORCH}")


def from_torch(module):
    """A ``torch.nn.Sequential`` of supported layers as an initialized chainrule network with the
    same parameters and buffers (and dtype: float32 or float64)."""
    torch = _torch("from_torch")
    if type(module) is not torch.nn.Sequential:
        raise ArgumentTypeError(f"from_torch: expected a torch.nn.Sequential, found {type(module).__name__}")
    model = _layer_from(module, "", torch)
    state = module.state_dict()
    dtypes = {str(t.dtype).removeprefix("torch.") for t in state.values() if t.is_floating_point()} or {"float64"}
    if len(dtypes) != 1 or not dtypes <= set(_DTYPES):  # (no tensors at all: activations only, float64)
        raise ConfigError(f"from_torch: the module's parameters must all be float32 or all float64, "
                          f"found {', '.join(sorted(dtypes)) or 'none'}")
    model.init(0, dtype=dtypes.pop())
    if list(state) != model.state_keys():  # (a module built from supported layers always matches)
        raise ConfigError(f"from_torch: the module's state names {list(state)[:8]} are not chainrule's "
                          f"{model.state_keys()[:8]}")
    arrays = {k: t.detach().cpu().numpy().copy() for k, t in state.items()}
    for k, v in arrays.items():
        if v.dtype.kind == "f" and not np.isfinite(v).all():
            raise ConfigError(f"from_torch: tensor {k!r} contains NaN or inf")
    model.params = {k: arrays[k] for k in model.param_names}
    model.buffers = {k: arrays[k] for k in model.buffer_names}
    return model


# -- a standalone script -----------------------------------------------------------------------

def _source(spec, indent):
    pad = " " * indent
    kind = spec[0]
    if kind in ("Sequential", "Residual"):
        inner = ",\n".join(_source(child, indent + 4) for child in spec[1])
        name = "torch.nn.Sequential" if kind == "Sequential" else "Residual"
        return f"{pad}{name}(\n{inner},\n{pad})"
    args = [repr(a) for a in spec[1]] + [f"{k}={v!r}" for k, v in spec[2].items()]
    name = "Standardize" if kind == "Standardize" else f"torch.nn.{kind}"
    return f"{pad}{name}({', '.join(args)})"


_SCRIPT = '''"""A PyTorch copy of a chainrule network, written by chainrule's write_torch_script.

    import model                      # this file
    net = model.build()               # torch.nn.Sequential in evaluation mode, weights loaded
    y = net(torch.as_tensor(X, dtype=model.DTYPE))

Needs torch and safetensors. The weights file is checked against its SHA-256 before loading.
"""

import hashlib

import torch
from safetensors.torch import load_file

WEIGHTS = {weights}
SHA256 = {sha256}
DTYPE = torch.{dtype}
LEGACY_STANDARDIZE = {legacy}  # (mean, scale) of a run that standardized outside its model, else None


{modules}

def build():
    """The network with its weights, in evaluation mode."""
    with open(WEIGHTS, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SHA256:
        raise ValueError(f"{{WEIGHTS}} is not the weights file this script was written for (SHA-256 {{digest}})")
    net = (
{network}
    ).to(DTYPE)
    net.load_state_dict(load_file(WEIGHTS), strict=True)
    if LEGACY_STANDARDIZE is not None:
        first = Standardize(len(LEGACY_STANDARDIZE[0])).to(DTYPE)
        first.mean.copy_(torch.tensor(LEGACY_STANDARDIZE[0], dtype=DTYPE))
        first.scale.copy_(torch.tensor(LEGACY_STANDARDIZE[1], dtype=DTYPE))
        net = torch.nn.Sequential(first, *net)
    return net.eval()


if __name__ == "__main__":
    print(build())
'''


def _folder(run_or_model_dir):
    """(model, legacy, weights file) of a run folder or a model folder (model.json + model.safetensors)."""
    from ..runs.loaded import load_run
    from ..saving import load_model

    folder = Path(run_or_model_dir)
    if (folder / "model.json").is_file():
        return load_model(folder), None, folder / "model.safetensors"
    model, legacy = _network(load_run(folder), "write_torch_script")
    return model, legacy, folder / "model" / "model.safetensors"


def _class_sources(*names):
    """The source of these classes of ``torch_modules``, read from its file (writing a script needs no torch)."""
    text = (Path(__file__).parent / "torch_modules.py").read_text(encoding="utf-8")
    classes = {node.name: node for node in ast.parse(text).body if isinstance(node, ast.ClassDef)}
    return [ast.get_source_segment(text, classes[name]) + "\n" for name in names]


def torch_script(run_or_model_dir):
    """The text ``write_torch_script`` writes. Every value in it is a literal of a checked number
    or a ``repr`` of a string; class names come from this module's tables."""
    model, legacy, weights = _folder(run_or_model_dir)
    weights = weights.resolve()
    spec = _spec(model, "", "a PyTorch script")
    modules = "\n\n".join(_class_sources("Standardize", "Residual"))
    if legacy is not None:
        legacy = ([_number(x, "mean") for x in legacy[0]], [_number(x, "scale") for x in legacy[1]])
    return _SCRIPT.format(weights=repr(str(weights)), sha256=repr(hashlib.sha256(weights.read_bytes()).hexdigest()),
                          dtype={"float32": "float32", "float64": "float64"}[model.dtype.name],
                          legacy=repr(legacy), modules=modules, network=_source(spec, 8))


def write_torch_script(run_or_model_dir, path):
    """Write a standalone Python file that builds the run's network as a torch.nn.Sequential (the
    standardization first) and loads the run's safetensors weights into it. Returns the path."""
    from ..saving.atomic import atomic_write_bytes

    text = torch_script(run_or_model_dir)
    atomic_write_bytes(Path(path), text.encode("utf-8"))
    return Path(path)
