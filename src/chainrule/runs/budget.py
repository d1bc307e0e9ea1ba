"""The memory a run needs, estimated from its config before anything is allocated, against the
limit ``[limits] memory_gb`` (default 4 GiB; raise it in the config to train something bigger).

A count typed with extra zeros (``n = 1e9``, ``hidden = [16000, 16000]``) should be a one-line
error naming the estimate, not minutes of swapping and a MemoryError. The estimate adds:

    data          n × (inputs + targets) × 8 bytes × 3 (as loaded, split, standardized; float64)
    parameters    P × itemsize (P: weights, biases and batch-norm vectors of the MLP)
    gradients     P × itemsize
    optimizer     k × P × itemsize (k: 0 for SGD, 1 for momentum, Adagrad, RMSProp, 2 for Adam, ...)
    copies        (1 + k) × P × itemsize (the checkpoint or rollback state)
    activations   the inputs of a batch, and each layer's output × 4 (values and gradients) for
                  a training batch or the diagnostics' probe (256 rows), × 2 (forward only) for an
                  evaluation block (4096 rows), whichever is the most, × itemsize

It is an estimate of the arrays chainrule allocates, not of the process (NumPy and Python
themselves take ~100 MB), and errs on the large side for the data. ``check_config`` runs with
the config's other checks, from the dataset's options (a CSV's size is known only once read:
``check_loaded`` repeats the check with the real shape before the model is built).
"""

from __future__ import annotations

import inspect
import math

from ..errors import ConfigError

GiB = 1 << 30
DEFAULT_MEMORY_GB = 4.0
EVAL_ROWS, PROBE_ROWS = 4096, 256

# Arrays of optimizer state per parameter array (beyond the parameters and gradients).
STATE_PER_PARAMETER = {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2, "adamw": 2}

# name -> (n, inputs, outputs) of scikit-learn's bundled datasets
FIXED_SHAPES = {"xor": (4, 2, 2), "digits": (1797, 64, 10), "iris": (150, 4, 3), "wine": (178, 13, 3),
                "breast_cancer": (569, 30, 2)}


def _count(value):
    """An option's value as a count for the estimate (integral floats too: ``n = 1e9``), or
    None when it is not a count (the generator reports that)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    return None


def dataset_shape(name, options):
    """(n, inputs, outputs) of a built-in dataset from its options, without generating it;
    None when the options are not counts (the generator will say so) or the name is unknown."""
    if name in FIXED_SHAPES:
        return FIXED_SHAPES[name]
    from ..data.registry import DATASETS

    spec = DATASETS.get(name)
    if spec is None:
        return None
    given = {k: v for k, v in dict(options).items()}
    defaults = {k: p.default for k, p in inspect.signature(spec.loader).parameters.items()}

    def get(key):
        return _count(given.get(key, defaults.get(key)))

    if name in ("moons", "circles"):
        n, d, k = get("n"), 2, 2
    elif name == "spiral":
        per, k = get("n_per_class"), get("n_classes")
        n, d = (None if per is None or k is None else per * k), 2
    elif name == "blobs":
        centers = given.get("centers", defaults.get("centers"))
        k = _count(centers)
        n, d = get("n"), get("dim")
        if k is None:  # an array of centers: (k, dim)
            shape = _shape(centers)
            if shape is None:
                return None
            k, d = shape
    elif name == "regression_1d":
        n, d, k = get("n"), 1, 1
    else:
        return None
    if None in (n, d, k) or min(n, d, k) < 1:
        return None
    return n, d, k


def _shape(value):
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        return len(value), len(value[0])
    return None


def limit_bytes(cfg):
    return int(cfg.get("limits", {}).get("memory_gb", DEFAULT_MEMORY_GB) * GiB)


def estimate(cfg, n, d_in, d_out, y_columns=1):
    """{part: bytes} of the run's arrays for n samples of d_in inputs and d_out outputs."""
    m, t = cfg["model"], cfg["training"]
    itemsize = 4 if cfg["dtype"] == "float32" else 8
    widths = [d_in, *m["hidden"], d_out]
    P = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    if m["batchnorm"]:
        P += 4 * sum(m["hidden"])  # scale, shift, running mean and variance
    name = cfg["optimizer"]["name"]
    k = STATE_PER_PARAMETER.get(name, 2)
    if name == "lbfgs":
        k = 2 * int(cfg["optimizer"].get("history_size", 10) or 10) + 3
    if cfg["optimizer"].get("amsgrad") is True or cfg["optimizer"].get("centered") is True:
        k += 1
    if name == "sgd" and cfg["optimizer"].get("momentum"):
        k += 1
    batch = min(t["batch_size"], n) if n else t["batch_size"]
    block = min(n, EVAL_ROWS)  # n = 0: a CSV not read yet; its blocks are counted once it is
    # a training batch keeps each layer's pre-activation, activation and their gradients (×4); an
    # evaluation block or the probe only the forward pass (×2); the inputs are there once
    rows = max(4 * batch, 2 * block, 4 * min(n, PROBE_ROWS) if n else 0)
    activations = (rows * sum(widths[1:]) + max(batch, block, PROBE_ROWS) * d_in) * itemsize
    return {"data": 3 * n * (d_in + y_columns) * 8, "parameters": P * itemsize, "gradients": P * itemsize,
            "optimizer state": k * P * itemsize, "copies": (1 + k) * P * itemsize,
            "activations": activations}


def _check(cfg, n, d_in, d_out, what):
    parts = estimate(cfg, n, d_in, d_out)
    total, limit = sum(parts.values()), limit_bytes(cfg)
    if total > limit:
        big = sorted(parts.items(), key=lambda kv: -kv[1])[:3]
        detail = ", ".join(f"{name} {_size(b)}" for name, b in big if b)
        raise ConfigError(f"this run would need about {_size(total)} of memory ({what}; {detail}), more than the "
                          f"limit of {_size(limit)}: make it smaller, or raise the limit with [limits] memory_gb = "
                          f"{max(1, math.ceil(total * 1.25 / GiB))}")


def check_config(cfg):
    """The budget from the config alone: a built-in dataset's shape from its options; for a CSV
    the model only (its size is known once read)."""
    d = cfg["data"]
    if d["name"] == "csv":
        features = d.get("features")
        shape = (0, len(features) if isinstance(features, list) and features else 1, 1)
        what = f"hidden = {_clip(m_hidden(cfg))}, before reading the CSV"
    else:
        shape = dataset_shape(d["name"], d["options"])
        if shape is None:
            return
        what = f"{shape[0]} samples × {shape[1]} inputs, hidden = {_clip(m_hidden(cfg))}"
    _check(cfg, *shape, what)


def check_loaded(cfg, X, d_out):
    """The budget with the data as loaded: X (n, d_in), d_out outputs."""
    n, d_in = X.shape
    _check(cfg, n, d_in, d_out, f"{n} samples × {d_in} inputs, hidden = {_clip(m_hidden(cfg))}")


def m_hidden(cfg):
    return cfg["model"]["hidden"]


def _clip(value, limit=40):
    text = str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _size(b):
    for unit, scale in (("TiB", 1 << 40), ("GiB", GiB), ("MiB", 1 << 20)):
        if b >= scale:
            return f"{b / scale:.1f} {unit}"
    return f"{b / 1024:.1f} KiB"
