"""``chainrule inspect CONFIG``: the configured model checked for trainability at initialization."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import data
from ..diagnostics.inspect import inspect_model
from .build import build_model, load_data, loss_name, output_width
from .schema import complete


def inspect_config(cfg, out_dir):
    """Build the configured model, check it on one batch, write the report.

    cfg: a configuration dict (missing keys take their defaults). Writes inspect.txt,
    inspect.json and the figures into ``out_dir``; returns (report text, [png paths]).
    """
    cfg = complete(cfg)
    seed, dtype = cfg["seed"], np.dtype(cfg["dtype"])
    X, y, meta = load_data(cfg)
    task = meta["task"]
    # the model a run would train: with [data] standardize, its first layer standardizes (fitted here
    # on all the data: no split is needed to judge the initialization), so it takes the raw inputs
    scaler = data.Standardizer().fit(X) if cfg["data"]["standardize"] else None
    model = build_model(cfg, X.shape[1], output_width(task, y), scaler)
    model.init(seed=seed, dtype=dtype)
    if task != "classification":
        y = np.asarray(y, np.float64)
    batch = max(int(cfg["training"]["batch_size"]), 256)
    report = inspect_model(model, X, y, loss=loss_name(cfg, task), batch_size=batch, seed=seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = report.summary()
    (out_dir / "inspect.txt").write_text(text + "\n")
    (out_dir / "inspect.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    return text, report.figures(out_dir)
