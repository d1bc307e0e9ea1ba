"""The command line's error contract: a user error (ChainruleError, OSError) is one line and exit
status 2; anything else is a bug in chainrule: one "internal error" line naming the exception,
exit status 1; --debug shows the traceback instead."""

import json
import re
import shutil

import pytest

from chainrule.cli import commands, main
from chainrule.errors import ConfigError

INTERNAL = "chainrule: internal error: {}: {} (run with --debug for the traceback)\n"


def fail_with(monkeypatch, error):
    def evaluate(*args, **kwargs):
        raise error

    monkeypatch.setattr(commands, "evaluate", evaluate)


@pytest.mark.parametrize("error, code, line", [
    (ConfigError("bad value, found 3"), 2, "chainrule: error: bad value, found 3\n"),
    (PermissionError(13, "Permission denied"), 2, "chainrule: error: [Errno 13] Permission denied\n"),
    (KeyError("weight"), 1, INTERNAL.format("KeyError", "weight")),
    (ValueError("operands could not be broadcast\ntogether"), 1,
     INTERNAL.format("ValueError", "operands could not be broadcast")),
    (TypeError("'int' object is not iterable"), 1, INTERNAL.format("TypeError", "'int' object is not iterable")),
    (ZeroDivisionError("division by zero"), 1, INTERNAL.format("ZeroDivisionError", "division by zero")),
])
def test_only_user_errors_print_as_user_errors(monkeypatch, capsys, error, code, line):
    fail_with(monkeypatch, error)
    assert main(["evaluate", "some-run"]) == code
    out, err = capsys.readouterr()
    assert err == line and out == ""


def test_debug_shows_the_traceback(monkeypatch):
    fail_with(monkeypatch, KeyError("weight"))
    with pytest.raises(KeyError):
        main(["--debug", "evaluate", "some-run"])


SMALL = """
seed = 1
[data]
name = "moons"
options = {{ n = 60, noise = 0.15 }}
[model]
hidden = [4]
{model}
[training]
epochs = 2
gradient_check = false
[output]
plots = false
"""


@pytest.mark.parametrize("model, data, pattern", [
    ('init = "he_normall"', "", r"model.init: unknown initializer 'he_normall' \(did you mean 'he_normal'\?\)"),
    ('activation = ["relu", "tanh"]', "", r"model.activation must be one name, or a list of 1 names"),
    ('activation = ["relu", 3]', "", r"model.activation must be one name, or a list of 1 names"),
    ("", "n = 100000000000", r"limits.memory_gb: this run would need about [0-9.]+ TiB of memory"),
])
def test_bad_configs_that_escaped_as_bare_exceptions(tmp_path, capsys, model, data, pattern):
    text = SMALL.format(model=model)
    if data:
        text = text.replace("n = 60, noise = 0.15", data)
    (tmp_path / "c.toml").write_text(text)
    code = main(["train", str(tmp_path / "c.toml"), "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("chainrule: error: "), err
    assert re.search(pattern, err), err


@pytest.mark.parametrize("field, value, pattern", [
    ("classes", 5, r"'classes' must be a list of the 2 class labels"),
    ("classes", ["x"], r"'classes' must be a list of the 2 class labels"),
    ("classes", {"a": 1}, r"'classes' must be a list of the 2 class labels"),
    ("features", [1, 2], r"'features' must be a list of the model's 2 input column names"),
    ("label", 3, r"'label' must be a column name"),
])
def test_a_damaged_preprocessing_file_is_a_user_error(tmp_path, capsys, field, value, pattern,
                                                    forget_checksums):
    (tmp_path / "c.toml").write_text(SMALL.format(model=""))
    assert main(["train", str(tmp_path / "c.toml"), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    damaged = tmp_path / "damaged"
    shutil.copytree(tmp_path / "run", damaged)
    prep = json.loads((damaged / "preprocessing.json").read_text())
    (damaged / "preprocessing.json").write_text(json.dumps({**prep, field: value}))
    forget_checksums(damaged)
    (tmp_path / "in.csv").write_text("x0,x1\n1,2\n")
    capsys.readouterr()
    for args in (["predict", damaged, tmp_path / "in.csv"], ["evaluate", damaged]):
        assert main([str(a) for a in args]) == 2
        err = capsys.readouterr().err  # (after the one warning that the old folder's files are unverified)
        errors = [line for line in err.splitlines() if not line.startswith("chainrule: warning:")]
        assert len(errors) == 1 and err.count("\n") == 2 and re.search(pattern, err), err


def test_missing_matplotlib_skips_the_figures_with_one_note(monkeypatch, tmp_path, capsys):
    """Issue 11, defect 10: figures are extras; without matplotlib the run finishes (exit 0) with
    its model and one note that says how to get them (it used to exit 2 after training)."""
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    cfg = tmp_path / "c.toml"
    cfg.write_text('[data]\nname = "moons"\n[training]\nepochs = 1\n')
    assert main(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "matplotlib" in line]
    assert notes == ["note: figures skipped: they need matplotlib, which is not installed "
                     "(pip install 'chainrule[plot]')"], err
    assert (tmp_path / "run" / "model").exists() and not list((tmp_path / "run").glob("*.png"))


@pytest.mark.parametrize("argv", [["train", "{cfg}"], ["demo", "--epochs", "0"]])
def test_zero_epochs_is_refused_before_anything_is_written(tmp_path, capsys, argv):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[data]\nname = "moons"\n[training]\nepochs = 0\n')
    out = tmp_path / "run"
    argv = [a.format(cfg=cfg) for a in argv] + ["--out", str(out), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "epochs" in err and "positive" in err and err.count("\n") == 1
    assert not out.exists()

