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
    checkpoint_every_steps = 0     # optimizer steps between checkpoints; 0 = off
    checkpoint_keep = 3            # newest checkpoints kept (0: all)
    on_divergence = "stop"         # NaN/inf: "stop", or "rollback" to the last good state with a lower rate
    rollback_factor = 0.5          # learning rate × this at each rollback
    max_rollbacks = 3
    check_gradients = false        # check every step's gradients for NaN/inf (a few µs per step)
    gradient_checkpointing = false
    gradient_check = true          # per-layer gradient check of the trained model

    [output]
    dir = "runs"
    name = ""                      # run folder name; default: <dataset>-<timestamp>
    plots = true

Unknown keys are errors that name the closest valid key. ``chainrule train --resume RUN``
continues from the newest intact checkpoint in ``RUN/checkpoints`` (so set checkpoint_every or
checkpoint_every_steps); the result is bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from ..errors import ConfigError, did_you_mean

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
                 "checkpoint_every_steps": 0, "checkpoint_keep": 3, "on_divergence": "stop", "rollback_factor": 0.5,
                 "max_rollbacks": 3, "check_gradients": False, "gradient_checkpointing": False,
                 "gradient_check": True},
    "output": {"dir": "runs", "name": "", "plots": True},
}

# Sections whose extra keys are options passed on (and validated) elsewhere.
OPEN_SECTIONS = ("optimizer", "schedule")
MAX_WIDTH = 1 << 20  # widths beyond this are typos (a 2^20 × 2^20 layer would need 8 TB)
TYPES = {
    "seed": int, "dtype": str,
    "data.name": str, "data.path": str, "data.label": str, "data.features": list, "data.val_fraction": float,
    "data.standardize": bool, "data.options": dict,
    "model.hidden": list, "model.activation": (str, list), "model.output_activation": str, "model.init": str,
    "model.batchnorm": bool, "model.dropout": float,
    "loss.name": str, "optimizer.name": str, "optimizer.learning_rate": float, "schedule.name": str,
    "training.epochs": int, "training.batch_size": int, "training.early_stopping": int,
    "training.checkpoint_every": int, "training.checkpoint_every_steps": int, "training.checkpoint_keep": int,
    "training.on_divergence": str, "training.rollback_factor": float, "training.max_rollbacks": int,
    "training.check_gradients": bool, "training.gradient_checkpointing": bool, "training.gradient_check": bool,
    "output.dir": str, "output.name": str, "output.plots": bool,
}


MAX_CONFIG_BYTES = 1 << 20  # a config file is a few hundred bytes


def load_config(path):
    """Read, validate and complete a config file; return a plain dict."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}" if not path.is_dir() else f"{path} is a folder, "
                          "not a config file")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} is {path.stat().st_size} bytes; a config file is at most {MAX_CONFIG_BYTES}")
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {_first_line(e)}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    except RecursionError:
        raise ConfigError(f"{path} is not valid TOML: nested too deeply") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise ConfigError(f"{path} is not valid TOML: {_first_line(e)}") from None
    except OSError as e:
        raise ConfigError(f"cannot read {path} ({e.strerror or type(e).__name__})") from None
    return complete(raw, source=str(path))


def _short(value, limit=100):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _first_line(e):
    lines = str(e).strip().splitlines()
    return (lines[0] if lines else type(e).__name__)[:200]


def complete(raw, source="config"):
    """Defaults overlaid with ``raw``, after checking every key and type."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a configuration must be a table of keys, found {type(raw).__name__}")
    cfg = copy.deepcopy(DEFAULTS)
    for key, value in raw.items():
        if key not in DEFAULTS:
            raise ConfigError(f"{source}: unknown key {_short(key)}{_hint(key, DEFAULTS)}; "
                              f"valid: {', '.join(DEFAULTS)}")
        if isinstance(DEFAULTS[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: [{key}] must be a table, found {type(value).__name__}")
            for sub, v in value.items():
                if sub not in DEFAULTS[key] and key not in OPEN_SECTIONS:
                    raise ConfigError(
                        f"{source}: unknown key {_short(sub)} in [{key}]{_hint(sub, DEFAULTS[key])}; "
                        f"valid keys: {', '.join(DEFAULTS[key])}"
                    )
                cfg[key][sub] = _typed(f"{key}.{sub}", v, source)
        else:
            cfg[key] = _typed(key, value, source)
    if cfg["dtype"] not in ("float32", "float64"):
        raise ConfigError(f"{source}: dtype must be 'float32' or 'float64', found {_short(cfg['dtype'])}")
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
        raise ConfigError(f"{source}: {key} must be {names}, found {_short(value)} ({type(value).__name__})")
    return value


def _check_values(cfg, source):
    t, m, d = cfg["training"], cfg["model"], cfg["data"]
    checks = [
        (t["batch_size"] > 0, "training.batch_size must be a positive integer", t["batch_size"]),
        (t["epochs"] >= 0, "training.epochs must be a non-negative integer", t["epochs"]),
        (t["early_stopping"] >= 0, "training.early_stopping must be >= 0", t["early_stopping"]),
        (t["checkpoint_every"] >= 0, "training.checkpoint_every must be >= 0", t["checkpoint_every"]),
        (t["checkpoint_every_steps"] >= 0, "training.checkpoint_every_steps must be >= 0",
         t["checkpoint_every_steps"]),
        (t["checkpoint_keep"] >= 0, "training.checkpoint_keep must be >= 0 (0 keeps all)", t["checkpoint_keep"]),
        (t["on_divergence"] in ("stop", "rollback"), "training.on_divergence must be 'stop' or 'rollback'",
         t["on_divergence"]),
        (0 < t["rollback_factor"] < 1, "training.rollback_factor must be in (0, 1)", t["rollback_factor"]),
        (t["max_rollbacks"] >= 0, "training.max_rollbacks must be >= 0", t["max_rollbacks"]),
        (cfg["seed"] >= 0, "seed must be a non-negative integer", cfg["seed"]),
        (0 <= d["val_fraction"] < 1, "data.val_fraction must be in [0, 1)", d["val_fraction"]),
        (0 <= m["dropout"] < 1, "model.dropout must be in [0, 1)", m["dropout"]),
        (all(isinstance(h, int) and not isinstance(h, bool) and 0 < h <= MAX_WIDTH for h in m["hidden"]),
         f"model.hidden must be a list of positive integers (at most {MAX_WIDTH})", m["hidden"]),
        (d["features"] is None or all(isinstance(f, str) for f in d["features"]),
         "data.features must be a list of column names", d["features"]),
    ]
    for ok, message, found in checks:
        if not ok:
            raise ConfigError(f"{source}: {message}, found {_short(found)}")


def _default(key):
    section, _, sub = key.partition(".")
    return DEFAULTS[section].get(sub) if sub else DEFAULTS[section]


def _hint(key, valid):
    return did_you_mean(key, valid)
