"""Messages (issue 12, cause 12): paths with control characters shown escaped on one line, a
config that is not a regular file reported as what it is, --debug anywhere, usage errors on
one line."""

import os

import pytest

from chainrule.cli import main
from chainrule.errors import ConfigError


def one_line_error(capsys, argv, code=2):
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: ") and err.count("\n") == 1, err
    return err


def test_a_newline_in_a_path_is_escaped_not_cut(tmp_path, capsys):
    err = one_line_error(capsys, ["train", str(tmp_path / "a\nb.toml")])
    assert r"a\nb.toml" in err and "not found" in err


def test_a_nul_byte_in_a_csv_path(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[data]\npath = "x\\u0000y.csv"\nlabel = "y"\n[training]\nepochs = 1\n')
    err = one_line_error(capsys, ["train", str(config), "--out", str(tmp_path / "r")])
    assert r"x\x00y.csv" in err and "embedded null byte" not in err


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "FIFO"),
    (lambda p: p.mkdir(), "directory"),
    (lambda p: p.symlink_to("/dev/zero"), "character device"),
    (lambda p: p.symlink_to(p.parent / "missing.toml"), "symbolic link to a file that does not exist"),
])
def test_a_config_that_is_not_a_regular_file_is_named_for_what_it_is(tmp_path, capsys, make, kind):
    path = tmp_path / "c.toml"
    make(path)
    err = one_line_error(capsys, ["train", str(path)])
    assert kind in err and "not found:" not in err, err


def test_debug_is_accepted_after_the_command(monkeypatch):
    from chainrule.cli import commands

    def evaluate(*args, **kwargs):
        raise ConfigError("bad")

    monkeypatch.setattr(commands, "evaluate", evaluate)
    for argv in (["evaluate", "run", "--debug"], ["--debug", "evaluate", "run"]):
        with pytest.raises(ConfigError):
            main(argv)


def test_without_debug_the_error_is_one_line(monkeypatch, capsys):
    from chainrule.cli import commands

    monkeypatch.setattr(commands, "evaluate", lambda *a, **k: (_ for _ in ()).throw(ConfigError("bad\nvalue")))
    err = one_line_error(capsys, ["evaluate", "run"])
    assert r"bad\nvalue" in err


@pytest.mark.parametrize("argv", [["train", "--bogus"], ["bogus"], ["predict", "run"], ["demo", "--epochs", "x"],
                                  ["train", "c.toml", "--resume"]])
def test_usage_errors_are_one_line(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: ") and err.count("\n") == 1 and "--help" in err, err


@pytest.mark.parametrize("argv, command", [(["train", "--bogus"], "train "), (["train", "x.toml", "--bogus"], "train "),
                                           (["inspect", "a", "b"], "inspect "), (["--bogus"], "")])
def test_an_unknown_argument_points_at_the_help_of_its_command(argv, command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1, err
    assert err.startswith("chainrule: error: unrecognized arguments: ") and f"(see 'chainrule {command}--help')" in err
