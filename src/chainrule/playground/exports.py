"""A session's model as downloads: the run config and its data, the weights, a PyTorch script,
an ONNX file and a Python snippet that loads the model into chainrule.

The torch script and ONNX come from ``chainrule.export`` (used as they are): they read a saved
model folder or write a file, in a temporary directory deleted before the answer goes out. The
rest is made in memory.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..saving import save_model
from . import toml_text
from .run_config import DATA_FILE

WEIGHTS_FILE = "model.safetensors"
EXPORTS = {"config": ("application/toml", "playground.toml"), "csv": ("text/csv", DATA_FILE),
           "safetensors": ("application/octet-stream", WEIGHTS_FILE), "torch": ("text/x-python", "model.py"),
           "onnx": ("application/octet-stream", "model.onnx"), "python": ("text/x-python", "load_model.py")}


def export(session, fmt):
    """(bytes, media type, file name) of the export ``fmt`` of the session's current model."""
    body = FORMATS[fmt](session)
    media, name = EXPORTS[fmt]
    return body, media, name


def config_text(session):
    t, s = session.training, session.settings
    if s["residual"]:
        raise ConfigError("the run config has no residual connections: export the weights, the torch script or "
                          "ONNX instead, or turn residual off")
    if t.data.task == "classification" and s["loss"] == "mse":
        raise ConfigError("the run config trains classes with cross-entropy only: choose cross_entropy to export it")
    comment = (f"chainrule playground, step {t.step_count}, epoch {t.epoch}.\n"
               f"Put {DATA_FILE} (the CSV export) beside this file and, in that folder, run:\n"
               "    chainrule train playground.toml\n"
               "Whole epochs trained without changing the settings on the way give the same weights.")
    if len(t.data.train_points) + len(t.data.test_points) != len(t.data.points):
        comment += "\nPoints were added on the canvas: the CLI splits all points, so its split differs."
    return toml_text.dumps(t.config(), comment).encode()


def csv_text(session):
    """The data (every point, in order) with the selected feature columns and the label."""
    data = session.training.data
    X = _features(data.points, data.features)
    out = io.StringIO()
    out.write(",".join([*data.features, "label"]) + "\n")
    labels = data.targets if data.task == "classification" else np.reshape(data.targets, -1)
    classes = data.task == "classification"
    for row, label in zip(X, labels):
        cells = [repr(float(v)) for v in row] + [str(int(label)) if classes else repr(float(label))]
        out.write(",".join(cells) + "\n")
    return out.getvalue().encode()


def _features(points, names):
    from .datasets import features

    return features(points, names)


def _saved(session, directory):
    model = session.training.model
    save_model(model, directory)
    return Path(directory)


def safetensors_bytes(session):
    """The bytes ``save_model`` writes as model.safetensors (so the torch script's SHA-256 matches), in memory."""
    from ..saving.model_io import FORMAT
    from ..saving.weights import tensors_bytes

    return tensors_bytes(session.training.model.state_dict(), metadata={"format": FORMAT})


def torch_text(session):
    from ..export.torch_export import torch_script

    with tempfile.TemporaryDirectory(prefix="chainrule-playground-") as d:
        folder = _saved(session, d)
        text = torch_script(folder)
        written = f"WEIGHTS = {str((folder / WEIGHTS_FILE).resolve())!r}"
        if written not in text:
            raise ConfigError("the torch script does not name its weights file as expected")
        # The download names the weights file beside it (the safetensors export, same bytes and SHA-256).
        return text.replace(written, f"WEIGHTS = {WEIGHTS_FILE!r}  # the safetensors export, beside this file",
                            1).encode()


def onnx_bytes(session):
    from ..export import to_onnx

    with tempfile.TemporaryDirectory(prefix="chainrule-playground-") as d:
        path = Path(d) / "model.onnx"
        to_onnx(session.training.model, path)
        return path.read_bytes()


_SNIPPET = '''"""The playground's network in chainrule: put model.safetensors (the weights export) beside this file.

    python load_model.py        # prints the outputs for two points
"""

import json

import numpy as np

from chainrule import nn
from chainrule.saving import load_weights

ARCHITECTURE = json.loads({architecture})
FEATURES = {features}  # computed from the points (x1, x2) as the playground does
TASK = {task}


def features(points):
    """(n, 2) points -> (n, len(FEATURES)) network inputs."""
    x1, x2 = points[:, 0], points[:, 1]
    table = {{"x1": x1, "x2": x2, "x1sq": x1 * x1, "x2sq": x2 * x2, "x1x2": x1 * x2, "sinx1": np.sin(x1),
             "sinx2": np.sin(x2)}}
    return np.column_stack([table[name] for name in FEATURES])


def load(path="model.safetensors"):
    model = nn.layer_from_config(ARCHITECTURE)
    state = load_weights(path)
    model.params = {{k: state[k] for k in model.param_names}}
    model.buffers = {{k: state[k] for k in model.buffer_names}}
    return model


if __name__ == "__main__":
    model = load()
    points = np.array([[1.0, 2.0], [-3.0, 0.5]])
    print(TASK, model(features(points)))  # logits for classification, values for regression
'''


def python_text(session):
    t = session.training
    return _SNIPPET.format(architecture=repr(json.dumps(t.model.config())), features=repr(list(t.data.features)),
                           task=repr(t.data.task)).encode()


FORMATS = {"config": config_text, "csv": csv_text, "safetensors": safetensors_bytes, "torch": torch_text,
           "onnx": onnx_bytes, "python": python_text}
