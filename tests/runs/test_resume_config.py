"""A resume continues the run it was started as (issue 12, cause 4): an edited config.json is
refused naming the keys that differ; `--epochs N` is the one change allowed, and it is recorded."""

import json

import pytest

from chainrule import runs
from chainrule.cli.main import main
from chainrule.runs.folder import config_hash

pytest.importorskip("safetensors")

CFG = {"seed": 0, "data": {"name": "moons"}, "model": {"hidden": [8], "dropout": 0.0},
       "training": {"epochs": 3, "checkpoint_every": 1, "gradient_check": False}, "output": {"plots": False}}


@pytest.fixture
def run(tmp_path):
    runs.train(CFG, run_dir=tmp_path / "run", verbose=0)
    return tmp_path / "run"


def edit_config(run, change):
    cfg = json.loads((run / "config.json").read_text())
    change(cfg)
    (run / "config.json").write_text(json.dumps(cfg))


def resume(run, capsys, *extra):
    code = main(["train", "--resume", str(run), "--quiet", *map(str, extra)])
    return code, capsys.readouterr().err.strip()


def test_a_changed_config_is_refused_naming_the_keys(run, capsys):
    before = (run / "metrics.csv").read_bytes(), sorted(p.name for p in (run / "checkpoints").iterdir())

    def change(cfg):
        cfg["optimizer"]["learning_rate"] = 0.1
        cfg["model"]["dropout"] = 0.5
        cfg["schedule"] = {"name": "step", "step_size": 2}

    edit_config(run, change)
    code, err = resume(run, capsys)
    assert code == 2 and err.count("\n") == 0, err
    assert err.startswith(f"chainrule: error: cannot resume {run}: its config.json changed since the run started ("
                          "model.dropout: 0.0 -> 0.5, optimizer.learning_rate: 0.01 -> 0.1, "), err
    assert 'schedule.name: (absent) -> "step"' in err and "schedule.step_size: (absent) -> 2" in err
    assert before == ((run / "metrics.csv").read_bytes(), sorted(p.name for p in (run / "checkpoints").iterdir()))


def test_editing_epochs_alone_says_to_use_the_option(run, capsys):
    edit_config(run, lambda cfg: cfg["training"].update(epochs=5))
    code, err = resume(run, capsys)
    assert code == 2 and "(training.epochs: 3 -> 5)" in err, err
    assert err.endswith(f"to train it to 5 epochs, run 'chainrule train --resume {run} --epochs 5'")


def test_epochs_extends_the_run_and_records_it(run, capsys):
    code, err = resume(run, capsys, "--epochs", 5)
    assert code == 0, err
    cfg = json.loads((run / "config.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert cfg["training"]["epochs"] == 5 and manifest["config"]["training"]["epochs"] == 5
    assert manifest["config_hash"] == config_hash(cfg) and manifest["epochs_run"] == 5
    assert manifest["status"] == "finished"
    assert [ln.split(",")[0] for ln in (run / "metrics.csv").read_text().splitlines()[1:]] == list("12345")
    # The extended run is the run trained for 5 epochs from the start, bit for bit.
    runs.train({**CFG, "training": {**CFG["training"], "epochs": 5}}, run_dir=run.parent / "five", verbose=0)
    assert (run / "model" / "model.safetensors").read_bytes() == (
        run.parent / "five" / "model" / "model.safetensors").read_bytes()
    # ... and resumes again without the option, its config now being 5 epochs.
    code, err = resume(run, capsys)
    assert code == 0, err


def test_epochs_below_those_trained_is_refused(run, capsys):
    code, err = resume(run, capsys, "--epochs", 2)
    assert code == 2 and err == (f"chainrule: error: cannot train {run} to 2 epochs (--epochs): it has already "
                                 "trained 3; give at least 3")
    assert json.loads((run / "config.json").read_text())["training"]["epochs"] == 3


def test_epochs_needs_resume(tmp_path, capsys):
    (tmp_path / "c.toml").write_text('[data]\nname = "moons"\n')
    assert main(["train", str(tmp_path / "c.toml"), "--epochs", "4"]) == 2
    assert "--epochs N goes with --resume" in capsys.readouterr().err


def test_a_run_whose_manifest_has_only_the_hash(run, capsys):
    # (runs started before the manifest held the config: the hash still catches an edit)
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["config"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    code, err = resume(run, capsys)
    assert code == 0, err  # unedited: the hash of config.json is the recorded one
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["config"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    edit_config(run, lambda cfg: cfg["optimizer"].update(learning_rate=0.1))
    code, err = resume(run, capsys)
    assert code == 2 and "its config.json changed since the run started (config hash" in err, err
