"""Same seed and config ⇒ bitwise-identical weights, across runs and across separate processes;
every run folder has a manifest with the versions, config hash, data hash and seed."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from chainrule.runs.build import load_data
from chainrule.runs.folder import data_hash
from chainrule.saving import load_weights

pytest.importorskip("safetensors")

CONFIG = """
seed = {seed}
dtype = "float32"
[data]
name = "spiral"
options = {{ n_per_class = 60, noise = 0.2 }}
[model]
hidden = [24, 24]
activation = "relu"
dropout = 0.1
[optimizer]
name = "adamw"
learning_rate = 0.01
weight_decay = 0.01
[training]
epochs = 12
batch_size = 16
gradient_check = false
[output]
plots = false
"""


def train_in_subprocesses(tmp_path, seeds):
    procs = []
    for i, seed in enumerate(seeds):
        cfg = tmp_path / f"c{i}.toml"
        cfg.write_text(CONFIG.format(seed=seed))
        procs.append((tmp_path / f"run{i}", subprocess.Popen(
            [sys.executable, "-m", "chainrule.cli.main", "train", str(cfg), "--out", str(tmp_path / f"run{i}"),
             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
    for _, p in procs:  # started together, so the processes run side by side
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()
    return [run for run, _ in procs]


def test_same_seed_same_bits_across_processes_and_a_different_seed_differs(tmp_path):
    a, b, c = train_in_subprocesses(tmp_path, [7, 7, 8])
    wa, wb, wc = (load_weights(r / "model" / "model.safetensors") for r in (a, b, c))
    assert sorted(wa) == sorted(wb) and all(v.dtype == np.float32 for v in wa.values())
    for k in wa:
        assert wa[k].tobytes() == wb[k].tobytes(), k
    assert any(wa[k].tobytes() != wc[k].tobytes() for k in wa)
    ma, mb = (json.loads((r / "manifest.json").read_text()) for r in (a, b))
    assert ma["final"] == mb["final"] and ma["data_hash"] == mb["data_hash"]

    # The manifest: what is needed to repeat the run, and it is true.
    cfg = json.loads((a / "config.json").read_text())
    assert ma["status"] == "finished" and ma["seed"] == cfg["seed"] == 7
    assert ma["config_hash"] == hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()
    X, y, _ = load_data(cfg)
    assert ma["data_hash"] == data_hash(X, y)
    for key in ("chainrule", "python", "numpy", "platform", "safetensors"):
        assert ma["versions"][key], key
    assert ma["versions"]["numpy"] == np.__version__
    assert ma["started"] <= ma["finished"] and ma["n_params"] == sum(
        v.size for k, v in wa.items() if k not in ("0.mean", "0.scale"))  # (the standardization's buffers)
    assert json.loads((c / "manifest.json").read_text())["config_hash"] != ma["config_hash"]


def test_same_seed_same_bits_within_one_process(tmp_path):
    from chainrule.cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(seed=3))
    for name in ("x", "y"):
        assert main(["train", str(cfg), "--out", str(tmp_path / name), "--quiet"]) == 0
    wx, wy = (load_weights(tmp_path / n / "model" / "model.safetensors") for n in ("x", "y"))
    assert all(wx[k].tobytes() == wy[k].tobytes() for k in wx)
