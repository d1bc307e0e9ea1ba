"""The command line: demo, train, evaluate, predict, and one clear line for every bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from chainrule.cli import main

SMALL = """
seed = 1
[data]
name = "moons"
options = {{ n = 120, noise = 0.15 }}
[model]
hidden = [16]
activation = "{activation}"
[optimizer]
name = "{optimizer}"
learning_rate = 0.05
[training]
epochs = {epochs}
batch_size = {batch_size}
checkpoint_every = 2
[output]
plots = {plots}
"""


def write_config(tmp_path, name="c.toml", activation="tanh", optimizer="adam", epochs=4, batch_size=16,
                 plots="false", extra=""):
    path = tmp_path / name
    path.write_text(SMALL.format(activation=activation, optimizer=optimizer, epochs=epochs,
                                 batch_size=batch_size, plots=plots) + extra)
    return path


def run_cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_writes_a_complete_run_folder(tmp_path):
    # A real process, as a user runs it; fewer epochs than the default to keep the suite fast.
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli.main", "demo", "--epochs", "40", "--quiet",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "PASSED" in proc.stdout and "1.weight" in proc.stdout
    for name in ("config.json", "manifest.json", "metrics.csv", "gradcheck.txt", "loss.png",
                 "decision_boundary.png", "gradient_norms.png", "model/model.safetensors", "model/model.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("versions", "seed", "config_hash", "data_hash"):
        assert key in manifest
    assert manifest["gradient_check"]["passed"] and manifest["final"]["val_accuracy"] > 0.8
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_train_evaluate_predict_round_trip(tmp_path, capsys):
    cfg = write_config(tmp_path, epochs=30)
    code, out, err = run_cli(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["evaluate", str(tmp_path / "run")], capsys)
    assert code == 0 and "validation split" in out and "accuracy" in out
    acc = float(out.split("accuracy")[1].split()[0])
    assert acc > 0.85  # moons, noise 0.15: a 16-unit tanh net separates them well
    inputs = tmp_path / "in.csv"
    inputs.write_text("x0,x1\n0.0,0.5\n1.0,-0.5\n")
    code, out, err = run_cli(["predict", str(tmp_path / "run"), str(inputs)], capsys)
    assert code == 0, err
    rows = out.strip().splitlines()
    assert rows[0] == "prediction,p_0,p_1" and len(rows) == 3
    probs = np.array([[float(v) for v in r.split(",")[1:]] for r in rows[1:]])
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_resume_continues_to_identical_weights(tmp_path, capsys):
    from safetensors.numpy import load_file

    cfg = write_config(tmp_path, epochs=6)
    assert run_cli(["train", str(cfg), "--out", str(tmp_path / "full"), "--quiet"], capsys)[0] == 0
    assert run_cli(["train", str(cfg), "--out", str(tmp_path / "cut"), "--quiet"], capsys)[0] == 0
    # Pretend the second run died after epoch 4: drop its newer checkpoints and results.
    ck = sorted((tmp_path / "cut" / "checkpoints").iterdir())
    import shutil

    for c in ck:
        if json.loads((c / "state.json").read_text())["epoch"] > 4:
            shutil.rmtree(c)
    shutil.rmtree(tmp_path / "cut" / "model")
    manifest = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    (tmp_path / "cut" / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    code, out, err = run_cli(["train", "--resume", str(tmp_path / "cut"), "--quiet"], capsys)
    assert code == 0, err
    a = load_file(str(tmp_path / "full" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "model" / "model.safetensors"))
    assert all(a[k].tobytes() == b[k].tobytes() for k in a)


@pytest.mark.parametrize(
    "kwargs, extra, pattern",
    [
        ({"activation": "rleu"}, "", r"unknown activation 'rleu' \(did you mean 'relu'\?\); valid activations"),
        ({"optimizer": "adma"}, "", r"adma.*adam"),
        ({"batch_size": 0}, "", r"training.batch_size must be a positive integer, found 0"),
        ({}, "\n[training]\nepoch = 3\n", r"Cannot declare|already|Duplicate|defined|not valid TOML"),
        ({}, "\nlearnig_rate = 3\n", r"unknown key 'learnig_rate' in \[output\]"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys, kwargs, extra, pattern):
    cfg = write_config(tmp_path, extra=extra, **kwargs)
    code, out, err = run_cli(["train", str(cfg), "--out", str(tmp_path / "r"), "--quiet"], capsys)
    assert code == 2
    line = err.strip()
    assert "\n" not in line and line.startswith("chainrule: error:"), err
    import re

    assert re.search(pattern, line), line


def test_unknown_top_level_key_suggests(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("sed = 1\n")
    code, _, err = run_cli(["train", str(cfg)], capsys)
    assert code == 2 and "unknown key 'sed' (did you mean 'seed'?)" in err


def test_malformed_toml_and_missing_file(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[data\nname = 3")
    code, _, err = run_cli(["train", str(cfg)], capsys)
    assert code == 2 and "not valid TOML" in err and err.count("\n") == 1
    code, _, err = run_cli(["train", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "config file not found" in err


def _csv_config(tmp_path, csv_text, label="y", extra=""):
    data = tmp_path / "d.csv"
    data.write_text(csv_text)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[data]\nname = "csv"\npath = "{data}"\nlabel = "{label}"\nval_fraction = 0.25\n'
                   f"[model]\nhidden = [4]\n[training]\nepochs = 2\nbatch_size = 4\ngradient_check = false\n"
                   f"[output]\nplots = false\n{extra}")
    return cfg


def test_csv_with_nan_names_row_and_column(tmp_path, capsys):
    rows = "a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10)) + "1,nan,0\n"
    code, _, err = run_cli(["train", str(_csv_config(tmp_path, rows)), "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "row 12" in err and "'b'" in err, err


def test_csv_missing_label_column_and_ragged_rows(tmp_path, capsys):
    rows = "a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10))
    code, _, err = run_cli(["train", str(_csv_config(tmp_path, rows, label="z")), "--out", str(tmp_path / "r")],
                           capsys)
    assert code == 2 and "'z'" in err
    code, _, err = run_cli(["train", str(_csv_config(tmp_path, rows + "1,2\n")), "--out", str(tmp_path / "r2")],
                           capsys)
    assert code == 2 and "row 12" in err


def test_csv_empty_data(tmp_path, capsys):
    code, _, err = run_cli(["train", str(_csv_config(tmp_path, "a,b,y\n")), "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "no data rows" in err


def test_predict_feature_count_mismatch_and_missing_run(tmp_path, capsys):
    cfg = write_config(tmp_path, epochs=1)
    assert run_cli(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"], capsys)[0] == 0
    bad = tmp_path / "in.csv"
    bad.write_text("x0\n0.5\n")
    code, _, err = run_cli(["predict", str(tmp_path / "run"), str(bad)], capsys)
    assert code == 2 and "x1" in err  # the missing feature column is named
    code, _, err = run_cli(["evaluate", str(tmp_path / "nope")], capsys)
    assert code == 2 and "run folder not found" in err


def test_debug_shows_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli.main", "--debug", "train", str(tmp_path / "x.toml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "Traceback" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli.main", "train", str(tmp_path / "x.toml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_inspect_flags_a_deep_sigmoid_network_with_he_init(tmp_path, capsys):
    cfg = tmp_path / "deep.toml"
    cfg.write_text('[data]\nname = "moons"\n[model]\nhidden = [32, 32, 32, 32, 32, 32, 32, 32, 32, 32]\n'
                   'activation = "sigmoid"\ninit = "he_normal"\n')
    code, out, err = run_cli(["inspect", str(cfg), "--out", str(tmp_path / "insp")], capsys)
    assert code == 0, err
    assert "vanishing gradient" in out and "weights at He scale" in out
    for name in ("inspect.txt", "inspect.json", "signal_propagation.png", "activation_stats.png"):
        assert (tmp_path / "insp" / name).is_file(), name
    healthy = tmp_path / "ok.toml"
    healthy.write_text('[data]\nname = "moons"\n[model]\nhidden = [32, 32]\nactivation = "relu"\n')
    code, out, _ = run_cli(["inspect", str(healthy), "--out", str(tmp_path / "insp2")], capsys)
    assert code == 0 and "PROBLEM" not in out


def test_finished_runs_are_neither_overwritten_nor_resumed(tmp_path, capsys):
    cfg = write_config(tmp_path, epochs=1)
    cfg.write_text(cfg.read_text().replace("checkpoint_every = 2", "checkpoint_every = 0"))
    assert run_cli(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"], capsys)[0] == 0
    assert not (tmp_path / "run" / "checkpoints").exists() or not any((tmp_path / "run" / "checkpoints").iterdir())
    before = (tmp_path / "run" / "model" / "model.safetensors").read_bytes()
    code, _, err = run_cli(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"], capsys)
    assert code == 2 and "already holds a run" in err
    code, _, err = run_cli(["train", "--resume", str(tmp_path / "run"), "--quiet"], capsys)
    assert code == 2 and "finished run without checkpoints" in err
    assert (tmp_path / "run" / "model" / "model.safetensors").read_bytes() == before
