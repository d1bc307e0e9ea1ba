"""write_torch_script: the written file, run by a fresh Python, rebuilds the network and reproduces
the run's predictions; no path or value reaches its source except as a literal."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from chainrule import nn, runs  # noqa: E402
from chainrule.export import to_torch, torch_export, write_torch_script  # noqa: E402
from chainrule.runs.loaded import LoadedRun  # noqa: E402
from chainrule.saving import save_model  # noqa: E402

TINY = {"seed": 3, "data": {"name": "spiral", "options": {"n_per_class": 30}},
        "model": {"hidden": [8, 8], "activation": "elu", "batchnorm": True, "dropout": 0.1},
        "training": {"epochs": 3, "batch_size": 16, "gradient_check": False}, "output": {"plots": False}}

# Runs the written file as a module of its own and prints the outputs for the inputs in argv[2].
DRIVER = """
import importlib.util, sys
import numpy as np, torch
spec = importlib.util.spec_from_file_location("exported", sys.argv[1])
exported = importlib.util.module_from_spec(spec); spec.loader.exec_module(exported)
net = exported.build()
assert isinstance(net, torch.nn.Sequential) and not net.training
X = torch.as_tensor(np.load(sys.argv[2]), dtype=exported.DTYPE)
np.save(sys.argv[3], net(X).detach().numpy())
print(type(net[0]).__name__)
"""


def _run_script(script, X, tmp_path):
    np.save(tmp_path / "X.npy", X)
    command = [sys.executable, "-c", DRIVER, str(script), str(tmp_path / "X.npy"), str(tmp_path / "out.npy")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return np.load(tmp_path / "out.npy"), done.stdout.strip()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("torch-script") / "run"
    runs.train(TINY, run_dir=out, verbose=0)
    return out


def test_the_written_script_reproduces_the_runs_outputs(run_dir, tmp_path):
    script = write_torch_script(run_dir, tmp_path / "model.py")
    X = np.random.default_rng(0).normal(scale=2.0, size=(13, 2))
    out, first = _run_script(script, X, tmp_path)
    loaded = runs.load_run(run_dir)
    assert first == "Standardize"  # the standardization is the first module
    np.testing.assert_allclose(out, loaded.output(X), rtol=0, atol=1e-12)  # float64: a few ulps apart
    np.testing.assert_allclose(to_torch(run_dir)(torch.from_numpy(X)).detach().numpy(), loaded.output(X),
                               rtol=0, atol=1e-12)


def test_the_script_refuses_a_replaced_weights_file(run_dir, tmp_path):
    model_dir = tmp_path / "model"
    model = runs.load_run(run_dir).model
    save_model(model, model_dir)
    script = write_torch_script(model_dir, tmp_path / "m.py")
    model.params = {k: v + 1 for k, v in model.params.items()}
    save_model(model, model_dir)
    np.save(tmp_path / "X.npy", np.zeros((1, 2)))
    done = subprocess.run([sys.executable, "-c", DRIVER, str(script), str(tmp_path / "X.npy"), str(tmp_path / "o.npy")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "is not the weights file this script was written for" in done.stderr


def test_a_hostile_folder_name_is_only_ever_a_string_literal(tmp_path):
    weird = tmp_path / "a'\"\"\"; import os; os.system('x') #\\ b"
    model = nn.Sequential(nn.Standardize([1.0, 2.0], [3.0, 4.0]), *nn.MLP([2, 5, 3], activation="gelu").layers)
    model.init(2)
    save_model(model, weird)
    script = write_torch_script(weird, tmp_path / "m.py")
    text = script.read_text()
    tree = ast.parse(text)
    weights = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                   and node.targets[0].id == "WEIGHTS")
    assert weights == str((weird / "model.safetensors").resolve())
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not any("system" in c for c in calls)
    X = np.random.default_rng(1).normal(size=(7, 2))
    out, _ = _run_script(script, X, tmp_path)
    np.testing.assert_allclose(out, model(X), rtol=0, atol=1e-12)


def test_a_run_that_standardized_outside_its_model_gets_it_as_the_first_module(tmp_path, monkeypatch):
    model = nn.MLP([2, 4, 3], activation="tanh")
    model.init(5, dtype="float32")
    save_model(model, tmp_path / "model")
    mean, scale = [0.5, -1.0], [2.0, 0.25]
    legacy = LoadedRun(tmp_path, {}, {"task": "classification", "standardize": True, "mean": mean, "scale": scale},
                       model)
    X = np.random.default_rng(2).normal(size=(6, 2)).astype(np.float32)
    expected = model((X - np.float32(mean)) / np.float32(scale))
    module = to_torch(legacy)
    assert type(module[0]).__name__ == "Standardize"
    np.testing.assert_allclose(module(torch.from_numpy(X)).detach().numpy(), expected, rtol=1e-6, atol=1e-6)
    monkeypatch.setattr(torch_export, "_folder", lambda d: (model, (np.array(mean), np.array(scale)),
                                                           tmp_path / "model" / "model.safetensors"))
    out, first = _run_script(write_torch_script(tmp_path, tmp_path / "m.py"), X, tmp_path)
    assert first == "Standardize"
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)  # float32: ~1e-7 relative apart
