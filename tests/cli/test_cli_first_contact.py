"""What a new user meets first (issue 11): --version and python -m chainrule, predict's output file,
file modes of a run folder, an early stop that says why, a missing extra named before training."""

import os
import stat
import subprocess
import sys

import pytest

import chainrule
from chainrule.cli import main

CONFIG = """
seed = 1
[data]
name = "moons"
options = {{ n = 120, noise = 0.15 }}
[model]
hidden = [8]
[training]
epochs = {epochs}
batch_size = 16
early_stopping = {patience}
[output]
plots = false
"""


def write_config(tmp_path, epochs=3, patience=0):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(epochs=epochs, patience=patience))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    assert main(["train", str(write_config(tmp)), "--out", str(tmp / "run"), "--quiet"]) == 0
    inputs = tmp / "in.csv"
    inputs.write_text("x0,x1\n0.0,0.5\n1.0,-0.5\n")
    return tmp / "run", inputs


# -- chainrule --version, python -m chainrule ------------------------------------------------

def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"chainrule {chainrule.__version__}\n"


def test_python_dash_m_chainrule_is_the_command():
    proc = subprocess.run([sys.executable, "-m", "chainrule", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout == f"chainrule {chainrule.__version__}\n", proc.stderr
    proc = subprocess.run([sys.executable, "-m", "chainrule", "predict", "no-such-run", "in.csv"],
                          capture_output=True, text=True, timeout=120)  # main's exit status reaches the shell
    assert proc.returncode == 2 and proc.stderr.startswith("chainrule: error:"), proc.stderr
    proc = subprocess.run([sys.executable, "-m", "chainrule"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "usage: chainrule" in proc.stdout


# -- predict ---------------------------------------------------------------------------------

def test_predict_writes_unix_line_ends(trained, tmp_path, capsys):
    run, inputs = trained
    assert main(["predict", str(run), str(inputs), "-o", str(tmp_path / "p.csv")]) == 0
    data = (tmp_path / "p.csv").read_bytes()
    assert b"\r" not in data and data.count(b"\n") == 3 and data.startswith(b"prediction,p_0,p_1\n")
    capsys.readouterr()
    assert main(["predict", str(run), str(inputs)]) == 0
    assert capsys.readouterr().out == data.decode()  # the same text on standard output


def test_predict_into_a_missing_folder_is_refused(trained, tmp_path, capsys):
    run, inputs = trained
    target = tmp_path / "no" / "such" / "dir" / "x.csv"
    assert main(["predict", str(run), str(inputs), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and str(target.parent) in err, err
    assert not (tmp_path / "no").exists()
    (tmp_path / "file").write_text("")
    assert main(["predict", str(run), str(inputs), "-o", str(tmp_path / "file" / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not a folder" in err
    assert main(["predict", str(run), str(inputs), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give a file name" in err


# -- file modes ------------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="file modes are POSIX")
def test_run_files_follow_the_umask(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        assert main(["train", str(write_config(tmp_path)), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert {"manifest.json", "config.json", "model.safetensors", "preprocessing.json"} <= {p.name for p in files}
    modes = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert set(modes.values()) == {"0o644"}, modes


# -- early stopping --------------------------------------------------------------------------

def test_an_early_stop_says_why(tmp_path, capsys):
    # patience 1 with a min_delta of 0 still stops moons long before 200 epochs of Adam
    cfg = write_config(tmp_path, epochs=200, patience=1)
    assert main(["train", str(cfg), "--out", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if "training stopped after" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("training stopped after ") and " of 200 epochs — early stopping: val_loss did not " \
        "improve for 1 epochs" in lines[0]
    assert "early stopping: val_loss did not improve" in out  # and the summary keeps the reason


# -- a missing extra, named before anything starts ---------------------------------------------

@pytest.mark.parametrize("command", ["demo", "train", "predict", "evaluate"])
def test_missing_safetensors_is_named_at_start(monkeypatch, tmp_path, capsys, command):
    monkeypatch.setitem(sys.modules, "safetensors", None)  # import safetensors -> ImportError
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    cfg = write_config(tmp_path)
    argv = {"demo": ["demo", "--epochs", "2", "--out", str(tmp_path / "run"), "--quiet"],
            "train": ["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"],
            "predict": ["predict", str(tmp_path / "run"), str(cfg)],
            "evaluate": ["evaluate", str(tmp_path / "run")]}[command]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""  # not even the demo's introduction: the error comes first
    assert err == (f"chainrule: error: {command} needs the safetensors package (the 'io' extra) to "
                   f"{'save' if command in ('demo', 'train') else 'read'} the run's weights, and it is not "
                   "installed: pip install 'chainrule[io]'\n")
    assert not (tmp_path / "run").exists()
