"""The training configuration file (TOML): schema, defaults and validation.

Example (every key optional; these are the defaults unless noted)::

    seed = 0
    dtype = "float64"              # or "float32"

    [data]
    name = "spiral"                # a built-in dataset (chainrule.data.dataset_names()) or "csv"
    path = "data.csv"              # csv only: the file, its label column and (optionally) features
    label = "y"
    features = ["x1", "x2"]
    val_fraction = 0.2             # held out for validation (stratified for classification)
    standardize = true             # zero mean, unit variance, fitted on the training part
    options = { n_per_class = 100, noise = 0.2 }   # passed to the dataset's generator

    [model]
    hidden = [64, 64]              # hidden widths; input and output widths come from the data
    activation = "relu"            # one name, or one per hidden layer
    output_activation = "identity" # the loss takes logits
    init = "auto"                  # "auto": He for the ReLU family, Xavier otherwise
    batchnorm = false
    dropout = 0.0

    [loss]
    name = "auto"                  # cross_entropy for classification, mse for regression

    [optimizer]
    name = "adam"
    learning_rate = 0.01
    # any other option of the optimizer: momentum, betas, weight_decay, clip_norm, ...

    [schedule]                     # optional
    name = "cosine"                # constant, step, exponential, cosine, warmup, plateau
    # options of the schedule

    [training]
    epochs = 100
    batch_size = 32
    early_stopping = 0             # patience in epochs on val_loss; 0 = off
    checkpoint_every = 0           # epochs between checkpoints; 0 = off
    gradient_checkpointing = false
    gradient_check = true          # per-layer gradient check of the trained model

    [output]
    dir = "runs"
    name = ""                      # run folder name; default: <dataset>-<timestamp>
    plots = true

Unknown keys are errors that name the closest valid key.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
from pathlib import Path

from ..errors import ConfigError

DEFAULTS = {
    "seed": 0,
    "dtype": "float64",
    "data": {"name": "spiral", "path": None, "label": None, "features": None, "val_fraction": 0.2,
             "standardize": True, "options": {}},
    "model": {"hidden": [64, 64], "activation": "relu", "output_activation": "identity", "init": "auto",
              "batchnorm": False, "dropout": 0.0},
    "loss": {"name": "auto"},
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "schedule": {},
    "training": {"epochs": 100, "batch_size": 32, "early_stopping": 0, "checkpoint_every": 0,
                 "gradient_checkpointing": False, "gradient_check": True},
    "output": {"dir": "runs", "name": "", "plots": True},
}

# Sections whose extra keys are options passed on (and validated) elsewhere.
OPEN_SECTIONS = ("optimizer", "schedule")
TYPES = {
    "seed": int, "dtype": str,
    "data.name": str, "data.path": str, "data.label": str, "data.features": list, "data.val_fraction": float,
    "data.standardize": bool, "data.options": dict,
    "model.hidden": list, "model.activation": (str, list), "model.output_activation": str, "model.init": str,
    "model.batchnorm": bool, "model.dropout": float,
    "loss.name": str, "optimizer.name": str, "optimizer.learning_rate": float, "schedule.name": str,
    "training.epochs": int, "training.batch_size": int, "training.early_stopping": int,
    "training.checkpoint_every": int, "training.gradient_checkpointing": bool, "training.gradient_check": bool,
    "output.dir": str, "output.name": str, "output.plots": bool,
}


def load_config(path):
    """Read, validate and complete a config file; return a plain dict."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a text file") from None
    return complete(raw, source=str(path))


def complete(raw, source="config"):
    """Defaults overlaid with ``raw``, after checking every key and type."""
    cfg = copy.deepcopy(DEFAULTS)
    for key, value in raw.items():
        if key not in DEFAULTS:
            raise ConfigError(f"{source}: unknown key {key!r}{_hint(key, DEFAULTS)}; valid: {', '.join(DEFAULTS)}")
        if isinstance(DEFAULTS[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: [{key}] must be a table, found {type(value).__name__}")
            for sub, v in value.items():
                if sub not in DEFAULTS[key] and key not in OPEN_SECTIONS:
                    raise ConfigError(
                        f"{source}: unknown key {sub!r} in [{key}]{_hint(sub, DEFAULTS[key])}; "
                        f"valid keys: {', '.join(DEFAULTS[key])}"
                    )
                cfg[key][sub] = _typed(f"{key}.{sub}", v, source)
        else:
            cfg[key] = _typed(key, value, source)
    if cfg["dtype"] not in ("float32", "float64"):
        raise ConfigError(f"{source}: dtype must be 'float32' or 'float64', found {cfg['dtype']!r}")
    _check_values(cfg, source)
    if cfg["data"]["name"] == "csv" and not (cfg["data"]["path"] and cfg["data"]["label"]):
        raise ConfigError(f"{source}: [data] name = 'csv' needs path = '...' and label = '...'")
    return cfg


def _typed(key, value, source):
    expected = TYPES.get(key)
    if expected is None or (value is None and _default(key) is None):
        return value
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
        raise ConfigError(f"{source}: {key} must be {names}, found {value!r} ({type(value).__name__})")
    return value


def _check_values(cfg, source):
    t, m, d = cfg["training"], cfg["model"], cfg["data"]
    checks = [
        (t["batch_size"] > 0, "training.batch_size must be a positive integer", t["batch_size"]),
        (t["epochs"] >= 0, "training.epochs must be a non-negative integer", t["epochs"]),
        (t["early_stopping"] >= 0, "training.early_stopping must be >= 0", t["early_stopping"]),
        (t["checkpoint_every"] >= 0, "training.checkpoint_every must be >= 0", t["checkpoint_every"]),
        (0 <= d["val_fraction"] < 1, "data.val_fraction must be in [0, 1)", d["val_fraction"]),
        (0 <= m["dropout"] < 1, "model.dropout must be in [0, 1)", m["dropout"]),
        (all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in m["hidden"]),
         "model.hidden must be a list of positive integers", m["hidden"]),
    ]
    for ok, message, found in checks:
        if not ok:
            raise ConfigError(f"{source}: {message}, found {found!r}")


def _default(key):
    section, _, sub = key.partition(".")
    return DEFAULTS[section].get(sub) if sub else DEFAULTS[section]


def _hint(key, valid):
    close = difflib.get_close_matches(str(key), list(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
