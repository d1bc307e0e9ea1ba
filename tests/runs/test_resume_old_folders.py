"""Resuming run folders written by an earlier chainrule (issue 12 review, items 2 and 10): their
manifest records only the hash of config.json as the file held it (before the schema grew
limits.*, output.record, model.layers); keys that do not change training may be edited."""

import json

import pytest

from chainrule import runs
from chainrule.cli.main import main
from chainrule.runs.folder import config_hash

pytest.importorskip("safetensors")

CFG = {"seed": 0, "data": {"name": "moons", "standardize": False}, "model": {"hidden": [8], "dropout": 0.0},
       "training": {"epochs": 3, "checkpoint_every": 1, "gradient_check": False}, "output": {"plots": False}}


@pytest.fixture
def old_run(tmp_path):
    """A run folder as 0551212 left it, interrupted after 3 of 6 epochs: config.json without the
    keys added since, a manifest with only its hash (json.dumps(sort_keys) of the file's dict)."""
    run = tmp_path / "run"
    runs.train(CFG, run_dir=run, verbose=0)
    make_old(run, epochs=6)
    return run


def make_old(run, epochs=None, change=None):
    cfg = json.loads((run / "config.json").read_text())
    del cfg["limits"], cfg["output"]["record"], cfg["model"]["layers"]
    if epochs is not None:
        cfg["training"]["epochs"] = epochs
    if change is not None:
        change(cfg)
    (run / "config.json").write_text(json.dumps(cfg, indent=2))
    manifest = json.loads((run / "manifest.json").read_text())
    for key in ("config", "sha256"):
        manifest.pop(key, None)
    manifest.update(status="interrupted", config_hash=config_hash(cfg))
    (run / "manifest.json").write_text(json.dumps(manifest))


def resume(run, capsys, *extra):
    code = main(["train", "--resume", str(run), "--quiet", *map(str, extra)])
    return code, capsys.readouterr().err.strip()


def test_an_unedited_old_folder_resumes(old_run, capsys):
    code, err = resume(old_run, capsys)
    assert code == 0, err
    manifest = json.loads((old_run / "manifest.json").read_text())
    assert manifest["status"] == "finished" and manifest["epochs_run"] == 6


def test_an_old_folder_edited_is_refused_also_with_epochs(old_run, capsys):
    # (--epochs used to skip the check: the edited learning rate trained silently)
    cfg = json.loads((old_run / "config.json").read_text())
    cfg["optimizer"]["learning_rate"] = 5.0
    (old_run / "config.json").write_text(json.dumps(cfg))
    before = (old_run / "manifest.json").read_bytes()
    for extra in ((), ("--epochs", 8)):
        code, err = resume(old_run, capsys, *extra)
        assert code == 2 and "its config.json changed since the run started (config hash" in err, err
        assert err.count("\n") == 0
    assert (old_run / "manifest.json").read_bytes() == before


def test_an_old_folder_with_its_hash_resumes_with_epochs(old_run, capsys):
    code, err = resume(old_run, capsys, "--epochs", 7)
    assert code == 0, err
    manifest = json.loads((old_run / "manifest.json").read_text())
    assert manifest["epochs_run"] == 7 and manifest["config"]["training"]["epochs"] == 7


def test_an_old_folder_from_before_standardize_is_refused_in_one_line(tmp_path, capsys):
    # Its checkpoints hold a model without the Standardize layer (no 0.mean, 0.scale), its config
    # says standardize = true: the model this version builds has the layer.
    run = tmp_path / "run"
    runs.train(CFG, run_dir=run, verbose=0)
    make_old(run, epochs=6, change=lambda cfg: cfg["data"].update(standardize=True))
    code, err = resume(run, capsys)
    assert code == 2 and err.count("\n") == 0, err
    assert "made by an earlier chainrule, before models held their standardization" in err, err
    assert "load_run" in err and "param/" not in err, err


def test_output_and_limits_may_change(tmp_path, capsys):
    run = tmp_path / "run"
    runs.train(CFG, run_dir=run, verbose=0)
    cfg = json.loads((run / "config.json").read_text())
    cfg["training"]["epochs"] = 5
    (run / "config.json").write_text(json.dumps(cfg))
    code, err = resume(run, capsys, "--epochs", 4)  # (epochs 3 -> 4, recorded with the config)
    assert code == 0, err
    cfg = json.loads((run / "config.json").read_text())
    cfg["limits"]["memory_gb"] = cfg["limits"]["memory_gb"] * 2
    cfg["output"]["plots"] = True
    (run / "config.json").write_text(json.dumps(cfg))
    code, err = resume(run, capsys, "--epochs", 5)
    assert code == 0, err
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["config"]["limits"]["memory_gb"] == cfg["limits"]["memory_gb"]  # taken from config.json
    assert manifest["config"]["output"]["plots"] is True and (run / "loss.png").is_file()
    cfg["model"]["dropout"] = 0.5  # anything else is still refused, naming the key (output.record too:
    cfg["output"]["record"] = False  # the recorder's state is in the checkpoints)
    cfg["limits"]["csv_mb"] = 7
    (run / "config.json").write_text(json.dumps(cfg))
    code, err = resume(run, capsys, "--epochs", 6)
    assert code == 2 and "model.dropout: 0.0 -> 0.5, output.record: true -> false)" in err, err
    assert "limits.csv_mb" not in err, err
