"""The playground's settings as a chainrule run configuration (``chainrule.runs``' schema).

The session builds its model and optimizer from this very config (``runs.build``'s
``build_model`` and ``build_optimizer``), so the config exported for ``chainrule train`` is the
one the session trained: the same widths, activations, initialization, optimizer and seed.
The data go beside it as a CSV (``DATA_FILE``) holding the feature columns the page selected.
"""

from __future__ import annotations

from .settings import INITIALIZERS

DATA_FILE = "playground-data.csv"


def optimizer_section(settings):
    """[optimizer]: the page's optimizer with its regularization (L2 = weight_decay, L1 = l1)."""
    o = settings["optimizer"]
    section = {"name": o["name"], "learning_rate": float(o["learning_rate"])}
    if o["name"] == "momentum":
        section["momentum"] = float(o["momentum"])
    if o["name"] == "adam":
        section["betas"] = [float(o["beta1"]), float(o["beta2"])]
    rate = float(settings["regularization_rate"])
    if settings["regularization"] == "l2" and rate > 0:
        section["weight_decay"] = rate
    if settings["regularization"] == "l1" and rate > 0:
        section["l1"] = rate
    return section


def run_config(settings, epochs=1, label="label"):
    """The config dict (before ``runs.schema.complete``) of a session with these settings."""
    layers = settings["layers"]
    test_fraction = round(1 - settings["train_percent"] / 100, 6)
    loss = settings["loss"]
    return {
        "seed": int(settings["seed"]),
        "dtype": "float64",
        "data": {"path": DATA_FILE, "label": label, "features": list(settings["features"]),
                 "val_fraction": test_fraction, "standardize": False},
        "model": {"hidden": [int(layer["units"]) for layer in layers],
                  "activation": [layer["activation"] for layer in layers] if layers else "identity",
                  "init": INITIALIZERS[settings["init"]], "batchnorm": bool(settings["batchnorm"]),
                  "dropout": float(settings["dropout"])},
        "loss": {"name": loss},
        "optimizer": optimizer_section(settings),
        "training": {"epochs": max(1, int(epochs)), "batch_size": int(settings["batch_size"])},
    }
