"""Exports round trip: the config + data that `chainrule train` reproduces, the safetensors weights, the
Python snippet, the torch script and ONNX give the session's own predictions."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from chainrule.playground.datasets import features
from chainrule.playground.exports import export
from chainrule.playground.session import Session
from chainrule.playground.toml_text import dumps

POINTS = np.array([[1.0, 2.0], [-3.0, 0.5], [0.0, 0.0], [4.5, -5.0]])


def outputs(session):
    t = session.training
    return t.model.apply(t.model.params, features(POINTS, t.data.features))


def write(session, folder, *formats):
    for fmt in formats:
        body, _, name = export(session, fmt)
        (folder / name).write_bytes(body)


PLAIN = {"dataset": "spiral3", "features": ["x1", "x2", "x1x2", "sinx2"], "init": "uniform_0.5",
         "layers": [{"units": 6, "activation": "relu"}, {"units": 5, "activation": "tanh"}],
         "optimizer": {"name": "adam", "learning_rate": 0.01}}
# residual blocks with batch norm and dropout: what the run config cannot say, the other formats can
RESIDUAL = {"residual": True, "batchnorm": True, "dropout": 0.2, "problem": "regression", "dataset": "multigauss",
            "loss": "mse", "layers": [{"units": 5, "activation": "elu"}] * 3}


@pytest.fixture(scope="module", params=[PLAIN, RESIDUAL], ids=["plain", "residual"])
def trained(request):
    s = Session(request.param)
    s.train(2 * s.training.batcher.n_batches)  # two whole epochs
    return s


def test_chainrule_train_on_the_exported_config_reproduces_the_weights(tmp_path, monkeypatch):
    from chainrule.cli.main import main
    from chainrule.runs import load_run

    trained = Session(PLAIN)
    trained.train(2 * trained.training.batcher.n_batches)  # two whole epochs
    write(trained, tmp_path, "config", "csv")
    config = tmp_path / "playground.toml"
    # (no figures and no recorder: neither touches the weights; they only cost time here)
    config.write_text(config.read_text() + "\n[output]\nplots = false\nrecord = false\n")
    monkeypatch.chdir(tmp_path)  # the config names its CSV relative to where it is run
    assert main(["train", "playground.toml", "--out", "run", "--quiet"]) == 0
    run = load_run(tmp_path / "run")
    params = trained.training.model.params
    assert run.model.params.keys() == params.keys()
    for k in params:  # the same data, split, init, batch order and optimizer: bit for bit
        assert np.array_equal(run.model.params[k], params[k]), k


def test_config_export_refuses_what_the_schema_cannot_say():
    from chainrule.errors import ConfigError

    with pytest.raises(ConfigError, match="residual"):
        export(Session({"residual": True}), "config")


def _module(path):
    """The exported Python file, imported as a module."""
    spec = importlib.util.spec_from_file_location(path.stem + "_export", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_safetensors_and_the_python_snippet(trained, tmp_path, monkeypatch):
    write(trained, tmp_path, "safetensors", "python")
    monkeypatch.chdir(tmp_path)
    module = _module(tmp_path / "load_model.py")
    model = module.load()
    assert np.array_equal(model(module.features(POINTS)), outputs(trained))  # same float64 arithmetic


def test_torch_script(trained, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    write(trained, tmp_path, "safetensors", "torch")
    monkeypatch.chdir(tmp_path)
    module = _module(tmp_path / "model.py")
    net = module.build()
    x = torch.as_tensor(features(POINTS, trained.training.data.features), dtype=module.DTYPE)
    # float64 on both sides, matrix products summed in another order: agreement to ~1e-15 relative
    np.testing.assert_allclose(net(x).detach().numpy(), outputs(trained), rtol=1e-12, atol=1e-12)


def test_onnx(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    write(trained, tmp_path, "onnx")
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    feed = sess.get_inputs()[0]
    x = features(POINTS, trained.training.data.features)
    x = x.astype(np.float32) if "float)" in feed.type else x  # (the model's dtype, float64 here)
    out = sess.run(None, {feed.name: x})[0]
    np.testing.assert_allclose(out, outputs(trained), rtol=1e-6, atol=1e-9)


def test_toml_strings_are_escaped():
    import tomllib

    hostile = 'a"\n[evil]\nx = 1 \\ \x7f \x00 é'
    assert tomllib.loads(dumps({"name": hostile, "t": {"s": hostile, "n": [1, 2.5, True]}})) == \
        {"name": hostile, "t": {"s": hostile, "n": [1, 2.5, True]}}
