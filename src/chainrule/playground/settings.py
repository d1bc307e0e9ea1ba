"""The playground's settings: the whole state of a run, as the page mirrors it in its URL.

``DEFAULTS`` is a complete settings object; ``check_settings(raw)`` returns a new, complete
and validated one (every key, type and range checked, unknown keys rejected) or raises a
``ConfigError`` whose one line names the field, what was expected and what was found.
``options()`` is what ``/api/options`` and the ``hello`` message tell the page.
"""

from __future__ import annotations

import copy
import math

from .. import _version
from ..errors import ConfigError
from ..nn.activations import ACTIVATIONS
from . import datasets

LIMITS = {"max_hidden_layers": 8, "max_units": 64, "max_points": 10_000, "max_upload_bytes": 1 << 20,
          "max_seeds": 8, "max_message_bytes": 2 << 20}
GRID = {"extent": 6.0, "surface": 64, "neuron": 24}
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
# softmax normalizes a whole layer: as a hidden unit's activation it is not a per-unit σ.
ACTIVATION_NAMES = tuple(name for name in ACTIVATIONS if name != "softmax")
LOSSES = {"classification": ("cross_entropy", "mse"), "regression": ("mse", "mae", "huber")}
OPTIMIZERS = {"sgd": {"learning_rate": 0.03}, "momentum": {"learning_rate": 0.03, "momentum": 0.9},
              "adam": {"learning_rate": 0.003, "beta1": 0.9, "beta2": 0.999}}
# The page's name -> chainrule.nn.init's spelling (the lecture's U[-0.5, 0.5] among them).
INITIALIZERS = {"xavier_uniform": "xavier_uniform", "xavier_normal": "xavier_normal", "he_uniform": "he_uniform",
                "he_normal": "he_normal", "lecun_normal": "lecun_normal", "uniform_0.5": "uniform(-0.5, 0.5)",
                "torch_default": "torch_default"}

DEFAULTS = {"problem": "classification", "dataset": "circle", "noise": 0, "train_percent": 50, "points": 500,
            "seed": 0, "batch_size": 10, "features": ["x1", "x2"],
            "layers": [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "tanh"}],
            "loss": "cross_entropy", "optimizer": {"name": "sgd", "learning_rate": 0.03},
            "init": "xavier_uniform", "regularization": "none", "regularization_rate": 0,
            "dropout": 0, "batchnorm": False, "residual": False, "seeds": 1}

# Changing one of these rebuilds the network at step 0; the others apply to the running network.
REBUILD_KEYS = ("problem", "dataset", "noise", "train_percent", "points", "seed", "features", "layers", "loss",
                "init", "dropout", "batchnorm", "residual", "seeds")


def options():
    """Everything the page offers, so the page is data-driven."""
    return {"datasets": {task: list(names) for task, names in datasets.BY_TASK.items()},
            "features": list(FEATURES), "activations": list(ACTIVATION_NAMES),
            "losses": {k: list(v) for k, v in LOSSES.items()}, "optimizers": copy.deepcopy(OPTIMIZERS),
            "initializers": list(INITIALIZERS), "limits": dict(LIMITS), "grid": dict(GRID),
            "defaults": copy.deepcopy(DEFAULTS), "version": _version.__version__}


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def number(raw, key, low, high, integer=False, low_open=False):
    """``raw[key]`` as a finite number in [low, high] ((low, high] with ``low_open``)."""
    value = raw[key]
    kind = int if integer else (int, float)
    bad_float = isinstance(value, float) and not math.isfinite(value)
    if isinstance(value, bool) or not isinstance(value, kind) or bad_float:
        what = "an integer" if integer else "a finite number"
        raise ConfigError(f"{key} must be {what} in {'(' if low_open else '['}{low}, {high}], found {_short(value)}")
    if not (low < value <= high if low_open else low <= value <= high):
        raise ConfigError(f"{key} must be in {'(' if low_open else '['}{low}, {high}], found {_short(value)}")
    return value


def choice(raw, key, allowed):
    value = raw[key]
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}, found {_short(value)}")
    return value


def boolean(raw, key):
    if not isinstance(raw[key], bool):
        raise ConfigError(f"{key} must be true or false, found {_short(raw[key])}")
    return raw[key]


def only_keys(raw, allowed, where):
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be an object, found {type(raw).__name__}")
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        raise ConfigError(f"unknown field {_short(unknown[0])} in {where}; valid fields: {', '.join(allowed)}")


def check_settings(raw, base=None):
    """``base`` (default ``DEFAULTS``) overlaid with ``raw``, every field checked; a new dict."""
    only_keys(raw, DEFAULTS, "settings")
    s = copy.deepcopy(base or DEFAULTS)
    given = copy.deepcopy(raw)
    o = given.get("optimizer")
    if isinstance(o, dict) and o.get("name", s["optimizer"]["name"]) == s["optimizer"]["name"]:
        given["optimizer"] = {**s["optimizer"], **o}  # the same optimizer: a partial change keeps the rest
    s.update(given)
    problem = choice(s, "problem", tuple(datasets.BY_TASK))
    if s["dataset"] != "upload":
        choice(s, "dataset", datasets.BY_TASK[problem])
    number(s, "noise", 0, 50)
    number(s, "train_percent", 10, 90)
    number(s, "points", 10, LIMITS["max_points"], integer=True)
    number(s, "seed", 0, 2**32 - 1, integer=True)
    number(s, "batch_size", 1, s["points"], integer=True)
    _features(s)
    _layers(s)
    choice(s, "loss", LOSSES[problem])
    s["optimizer"] = _optimizer(s["optimizer"])
    choice(s, "init", tuple(INITIALIZERS))
    choice(s, "regularization", ("none", "l1", "l2"))
    number(s, "regularization_rate", 0, 10)
    number(s, "dropout", 0, 0.9)
    boolean(s, "batchnorm")
    boolean(s, "residual")
    number(s, "seeds", 1, LIMITS["max_seeds"], integer=True)
    return s


def _features(s):
    f = s["features"]
    if not isinstance(f, list) or not f or len(f) > len(FEATURES):
        raise ConfigError(f"features must be a non-empty list of {', '.join(FEATURES)}, found {_short(f)}")
    for name in f:
        if not isinstance(name, str) or name not in FEATURES:
            raise ConfigError(f"features: unknown feature {_short(name)}; valid: {', '.join(FEATURES)}")
    if len(set(f)) != len(f):
        raise ConfigError(f"features must not repeat a feature, found {_short(f)}")
    s["features"] = [name for name in FEATURES if name in f]  # one order: the page's


def _layers(s):
    layers = s["layers"]
    limit = LIMITS["max_hidden_layers"]
    if not isinstance(layers, list) or len(layers) > limit:
        n = len(layers) if isinstance(layers, list) else type(layers).__name__
        raise ConfigError(f"layers must be a list of at most {limit} hidden layers, found {n}")
    for i, layer in enumerate(layers):
        only_keys(layer, ("units", "activation"), f"layers[{i}]")
        if set(layer) != {"units", "activation"}:
            raise ConfigError(f"layers[{i}] needs units and activation, found {_short(sorted(layer))}")
        number(layer, "units", 1, LIMITS["max_units"], integer=True)
        choice(layer, "activation", ACTIVATION_NAMES)


def _optimizer(raw):
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or raw["name"] not in OPTIMIZERS:
        found = raw.get("name") if isinstance(raw, dict) else raw
        raise ConfigError(f"optimizer.name must be one of {', '.join(OPTIMIZERS)}, found {_short(found)}")
    defaults = OPTIMIZERS[raw["name"]]
    only_keys(raw, ("name", *defaults), f"optimizer ({raw['name']})")
    o = {"name": raw["name"], **defaults, **{k: v for k, v in raw.items() if k != "name"}}
    number(o, "learning_rate", 0, 10, low_open=True)
    for key in ("momentum", "beta1", "beta2"):
        if key in o:
            number(o, key, 0, 0.9999)
    return o


def changed_keys(old, new):
    return [k for k in DEFAULTS if old.get(k) != new.get(k)]
