"""The memory a run needs, estimated from its config before anything is allocated, against the
limit ``[limits] memory_gb`` (default 4 GiB; raise it in the config to train something bigger).

A count typed with extra zeros (``n = 1e9``, ``hidden = [16000, 16000]``) should be a one-line
error naming the estimate, not minutes of swapping and a MemoryError. The estimate adds:

    data          n × (inputs + targets) × 8 bytes × 3 (as loaded, split, standardized; float64)
    parameters    P × itemsize (P: weights, biases and batch-norm vectors of the MLP)
    gradients     P × itemsize
    optimizer     k × P × itemsize (k: 0 for SGD, 1 for momentum, Adagrad, RMSProp, 2 for Adam, ...,
                  counted from the configured optimizer itself)
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

import math

from ..data.registry import dataset_shape
from ..errors import ChainruleError, ConfigError

GiB = 1 << 30
DEFAULT_MEMORY_GB = 4.0
EVAL_ROWS, PROBE_ROWS = 4096, 256

PROBE_SIZE = 1000  # elements of the one parameter an optimizer is built over to count its state


def optimizer_state(cfg):
    """Arrays of optimizer state per parameter element (beyond the parameters and gradients), as
    the configured optimizer itself holds them: it is built over one probe parameter and its
    state counted (momentum: 1, Adam: 2, AMSGrad: 3, L-BFGS: about 2·history + 4). An
    optimizer section the other checks will refuse counts as Adam's 2."""
    import numpy as np

    from .. import optim

    options = dict(cfg["optimizer"])
    name = options.pop("name")
    try:  # (a schedule holds numbers, not arrays: the learning rate as configured is enough here)
        opt = optim.get(name, {"w": np.zeros(PROBE_SIZE)}, **options)
    except (ChainruleError, TypeError, ValueError):
        return 2
    elements = sum(v.size for v in opt.state_dict().values() if isinstance(v, np.ndarray))
    return math.ceil(elements / PROBE_SIZE)


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
    k = optimizer_state(cfg)
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
