"""A run folder exported to ONNX (issue 13 item 2): raw inputs in (the run's Standardize is in the
graph), and onnxruntime reproduces ``load_run(dir)``'s logits, ``predict_proba`` and ``predict``.
Tolerances as in test_onnx_parity (float32 rtol 1e-5/atol 1e-6; float64 1e-12)."""

import dataclasses

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("safetensors")

from chainrule import nn, runs  # noqa: E402
from chainrule.export import to_onnx  # noqa: E402

TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}


def train(tmp_path_factory, data, dtype):
    cfg = {"seed": 0, "dtype": dtype, "data": {"name": data}, "model": {"hidden": [8]},
           "training": {"epochs": 2, "gradient_check": False}, "output": {"plots": False}}
    run_dir = tmp_path_factory.mktemp(f"{data}-{dtype}") / "run"
    runs.train(cfg, run_dir=run_dir, verbose=0)
    return run_dir


@pytest.fixture(scope="module", params=["float32", "float64"])
def classifier(request, tmp_path_factory):
    return train(tmp_path_factory, "moons", request.param)


@pytest.fixture(scope="module")
def regressor(tmp_path_factory):
    return train(tmp_path_factory, "regression_1d", "float64")


def raw_inputs(run, n, dtype):
    """Inputs on the raw scale the run was trained on (far from standardized), in the model's dtype."""
    prep = run.preprocessing
    z = np.random.default_rng(n).normal(size=(n, run.model.d_in))
    return (z * np.asarray(prep["scale"]) + np.asarray(prep["mean"])).astype(dtype)


def run_onnx(path, X):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"input": X})))


def test_classifier_run_gives_logits_probabilities_and_labels(classifier, tmp_path):
    run = runs.load_run(classifier)
    assert run.standardizes_in_model
    dtype = run.model.dtype.type
    path = to_onnx(classifier, tmp_path / "run.onnx")  # the folder path: what `chainrule export` passes
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    for n in (1, 7, 1000):
        X = raw_inputs(run, n, dtype)
        out = run_onnx(path, X)
        assert list(out) == ["logits", "probabilities", "labels"]
        np.testing.assert_allclose(out["logits"], run.output(X), **TOL[dtype])
        np.testing.assert_allclose(out["probabilities"], run.predict_proba(X), **TOL[dtype])
        assert out["labels"].dtype == np.int64
        np.testing.assert_array_equal(out["labels"], run.predict(X))


def test_text_labels_come_back_as_text(classifier, tmp_path):
    run = runs.load_run(classifier)
    run = dataclasses.replace(run, preprocessing={**run.preprocessing, "classes": ["no", "yes"]})
    X = raw_inputs(run, 50, run.model.dtype)
    out = run_onnx(to_onnx(run, tmp_path / "run.onnx"), X)
    assert sorted(set(out["labels"])) == ["no", "yes"]  # (both classes occur: the test can tell them apart)
    np.testing.assert_array_equal(out["labels"], run.predict(X))


def test_folder_standardized_outside_the_model(classifier, tmp_path):
    """A run from before nn.Standardize: mean and scale in preprocessing.json, applied in the graph."""
    run = runs.load_run(classifier)
    model = nn.Sequential(list(run.model.layers[1:]))
    model.params = {k.replace("1.", "0.", 1) if k.startswith("1.") else k.replace("3.", "2.", 1): v
                    for k, v in run.model.params.items()}
    model.buffers = {}
    prep = {**run.preprocessing, "in_model": False, "mean": run.model.buffers["0.mean"].tolist(),
            "scale": run.model.buffers["0.scale"].tolist()}
    old = dataclasses.replace(run, preprocessing=prep, model=model)
    assert not old.standardizes_in_model
    X = raw_inputs(run, 7, run.model.dtype)
    out = run_onnx(to_onnx(old, tmp_path / "old.onnx"), X)
    np.testing.assert_allclose(out["probabilities"], old.predict_proba(X), **TOL[run.model.dtype.type])
    np.testing.assert_allclose(out["probabilities"], run.predict_proba(X), **TOL[run.model.dtype.type])


def test_regression_run_gives_its_output(regressor, tmp_path):
    run = runs.load_run(regressor)
    X = raw_inputs(run, 7, np.float64)
    out = run_onnx(to_onnx(regressor, tmp_path / "reg.onnx"), X)
    assert list(out) == ["output"]
    np.testing.assert_allclose(out["output"], run.output(X), **TOL[np.float64])
