"""Output paths are checked before any work starts (issue 12, cause 5): one line, exit 2, the
path shown escaped and shortened, and nothing trained or written first."""

import os

import pytest

from chainrule import runs
from chainrule.cli import main
from chainrule.data.files import shown
from chainrule.errors import ConfigError
from chainrule.runs.paths import check_file, check_folder, check_run_folder

SMALL = {"data": {"name": "moons", "options": {"n": 40}}, "model": {"hidden": [3]},
         "training": {"epochs": 1, "gradient_check": False}, "output": {"plots": False}}


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "afile"
    path.write_text("x")
    return path


def test_a_file_where_the_folder_goes(a_file):
    with pytest.raises(ConfigError, match=r"run folder .*afile: is a file, not a folder"):
        check_run_folder(a_file)


def test_a_path_under_a_file(a_file):
    with pytest.raises(ConfigError, match=r"afile is a file, not a folder"):
        check_run_folder(a_file / "sub" / "run")


def test_a_name_over_255_bytes(tmp_path):
    with pytest.raises(ConfigError, match=r"is 300 bytes; a file or folder name is at most 255"):
        check_folder(tmp_path / ("a" * 300))
    # 100 three-byte characters: 300 bytes though only 100 characters
    with pytest.raises(ConfigError, match=r"is 300 bytes"):
        check_folder(tmp_path / ("€" * 100))


def test_a_nul_byte(tmp_path):
    with pytest.raises(ConfigError, match=r"holds a NUL byte") as info:
        check_folder(str(tmp_path) + "/a\0b")
    assert "\0" not in str(info.value) and r"\x00" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_parent(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ConfigError, match="no permission to write in"):
            check_folder(locked / "run")
    finally:
        locked.chmod(0o755)


def test_resume_with_checkpoints_a_file_fails_before_training(tmp_path):
    run_dir = tmp_path / "r"
    runs.train(SMALL, run_dir=run_dir, verbose=0)
    (run_dir / "checkpoints").write_text("not a folder")
    before = (run_dir / "metrics.csv").read_text()
    with pytest.raises(ConfigError, match=r"checkpoints is a file, but the run writes a folder there"):
        runs.train(SMALL, run_dir=run_dir, verbose=0, resume=True)
    assert (run_dir / "metrics.csv").read_text() == before  # nothing trained, nothing rewritten


def test_output_file_checks(tmp_path, a_file):
    assert check_file(tmp_path / "p.csv") == tmp_path / "p.csv"
    with pytest.raises(ConfigError, match="does not exist"):
        check_file(tmp_path / "nope" / "p.csv")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check_file(a_file / "p.csv")
    with pytest.raises(ConfigError, match="is a folder; give a file name"):
        check_file(tmp_path)
    with pytest.raises(ConfigError, match="is 256 bytes"):
        check_file(tmp_path / ("p" * 256))


def test_shown_escapes_and_keeps_head_and_tail():
    assert shown("runs/a") == "runs/a"
    assert shown("a\nb") == r"'a\nb'" and "\n" not in shown("a\nb")
    long = "head-" + "x" * 500 + "-tail"
    text = shown(long)
    assert len(text) <= 120 and text.startswith("head-") and text.endswith("-tail") and "..." in text


@pytest.mark.parametrize("out", ["afile", "afile/x", "a" * 300, "nl\nx/" + "b" * 256])
def test_cli_output_paths_are_one_line_exit_2(tmp_path, capsys, monkeypatch, a_file, out):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text('[data]\nname = "moons"\noptions = { n = 40 }\n[training]\nepochs = 1\n')
    code = main(["train", str(config), "--out", out, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("chainrule: error: run folder"), err
    assert len(err) < 400, err  # long paths are shortened


def test_cli_predict_output_and_experiment_out(tmp_path, capsys, a_file):
    assert main(["experiment", "xor", "--quick", "--out", str(a_file / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not a folder" in err, err


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".", "x\\y", "nul\0byte"])
def test_output_name_is_one_folder_name_inside_output_dir(tmp_path, name):
    # output.name names the run folder inside output.dir; a path in it would write elsewhere
    cfg = {"output": {"dir": str(tmp_path / "runs"), "name": name}}
    with pytest.raises(ConfigError, match=r"output\.name must be one folder name"):
        runs.complete(cfg)
    assert not (tmp_path / "runs").exists() and not (tmp_path / "escape").exists()


@pytest.mark.parametrize("dataset", ["moons", "regression_1d"])
def test_every_name_a_run_writes_is_checked_before_training(tmp_path, dataset):
    # RUN_ENTRIES is what check_run_folder guards: a run (classification and regression, figures,
    # checkpoints, the lock) must write nothing outside it, or a folder in the way of a late
    # write would fail only after training.
    pytest.importorskip("matplotlib")
    pytest.importorskip("safetensors")
    from chainrule.runs.paths import RUN_ENTRIES

    seen = set()  # the lock file is removed at the end: look while the run holds it
    cfg = {"data": {"name": dataset}, "model": {"hidden": [4]},
           "training": {"epochs": 2, "checkpoint_every": 1}}
    run_dir = tmp_path / "r"
    import chainrule.runs.lock as lock_module

    real_enter = lock_module.RunLock.__enter__

    def enter(self):
        out = real_enter(self)
        seen.update(p.name for p in run_dir.iterdir())
        return out

    lock_module.RunLock.__enter__ = enter
    try:
        runs.train(cfg, run_dir=run_dir, verbose=0)
    finally:
        lock_module.RunLock.__enter__ = real_enter
    seen.update(p.name for p in run_dir.iterdir())
    assert seen - set(RUN_ENTRIES) == set(), sorted(seen - set(RUN_ENTRIES))
    assert ".lock" in seen and "loss.png" in seen


def test_a_figure_name_taken_by_a_folder_fails_before_training(tmp_path):
    run_dir = tmp_path / "r"
    (run_dir / "loss.png").mkdir(parents=True)
    with pytest.raises(ConfigError, match="loss.png is a directory, but the run writes a file there"):
        check_run_folder(run_dir, resume=True)
