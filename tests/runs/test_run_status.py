"""A run's manifest never stays "running" after the run has ended (issue 12 review, item 8): a
broken matplotlib (installed, its import raises) skips the figures with one note; a figure
that fails for any reason after training is skipped too; anything else that fails after the
folder exists leaves "failed" with the error."""

import json
import sys

import pytest

from chainrule import plots, runs
from chainrule.cli.main import main
from chainrule.runs import pipeline

pytest.importorskip("safetensors")
pytest.importorskip("matplotlib")

CFG = {"seed": 0, "data": {"name": "moons"}, "model": {"hidden": [8]},
       "training": {"epochs": 1, "gradient_check": False}}


def status(run):
    return json.loads((run / "manifest.json").read_text())


@pytest.fixture
def broken_matplotlib(tmp_path, monkeypatch):
    """A matplotlib package on sys.path whose import raises ImportError (a broken install)."""
    package = tmp_path / "site" / "matplotlib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('libfreetype.so.6: cannot open shared object file')\n")
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))


def test_missing_tries_the_import(broken_matplotlib):
    note = plots.missing()
    assert note is not None and "matplotlib is installed but cannot be imported (libfreetype" in note, note


def test_a_broken_matplotlib_skips_the_figures_and_the_run_finishes(broken_matplotlib, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[data]\nname = "moons"\n[training]\nepochs = 1\ngradient_check = false\n')
    assert main(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "matplotlib" in line]
    assert len(notes) == 1 and notes[0].startswith("note: figures skipped: matplotlib is installed but"), err
    assert status(tmp_path / "run")["status"] == "finished"


def test_a_figure_that_fails_is_skipped_with_one_note(tmp_path, monkeypatch, capsys):
    def fails(*args, **kwargs):
        raise ValueError("Image size of 100000x3 pixels is too large")

    monkeypatch.setattr(plots, "loss_curves", fails)
    runs.train(CFG, run_dir=tmp_path / "run", verbose=0)
    err = capsys.readouterr().err
    assert "note: figures skipped: Image size of 100000x3 pixels is too large" in err, err
    manifest = status(tmp_path / "run")
    assert manifest["status"] == "finished" and manifest["plots"] == []


@pytest.mark.parametrize("where", ["save_model", "gradient_check_model"])
def test_a_failure_after_the_folder_exists_leaves_failed(tmp_path, monkeypatch, where):
    def fails(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(pipeline, where, fails)
    with pytest.raises(OSError):
        runs.train({**CFG, "training": {"epochs": 1, "gradient_check": True}}, run_dir=tmp_path / "run", verbose=0)
    manifest = status(tmp_path / "run")
    assert manifest["status"] == "failed" and manifest["error"] == "No space left on device", manifest
    assert "failed" in manifest and "config" in manifest
