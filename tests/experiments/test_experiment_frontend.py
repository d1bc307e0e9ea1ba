"""Issue 11: experiments cite the lecture notes by title, show progress, survive a missing
matplotlib and leave no empty folder behind."""

import sys

import pytest

from chainrule.cli import main
from chainrule.experiments import REGISTRY, run
from chainrule.experiments.base import ExperimentSpec
from chainrule.experiments.sources import SOURCES, cite
from chainrule.train.progress import StageProgress


def test_cite_replaces_note_numbers_with_titles_and_leaves_random_seeds_alone():
    assert cite("seed 001 says 2-3×") == "“Backpropagation: The Algorithm That Changed Everything” says 2-3×"
    assert cite("Seeds 000, 003") == "“Feedforward Networks and Backpropagation”, “Feedforward neural networks”"
    assert cite("the median of 3 seeds (seed 7)") == "the median of 3 seeds (seed 7)"


def test_experiment_list_names_sources_by_title(capsys):
    assert main(["experiment", "list"]) == 0
    out = capsys.readouterr().out
    assert "seed 0" not in out.lower() and "(seeds" not in out
    assert all(f"“{s.title}”" in out for s in SOURCES.values())  # every note is cited by some experiment


def test_a_report_cites_by_title(tmp_path):
    _, results = run("parameters", out=tmp_path, log=lambda *a: None)
    text = (tmp_path / "report.md").read_text()
    assert "| claim | source |" in text and "Sources: “Feedforward Networks and Backpropagation”" in text
    assert "seed 0" not in text.lower() and "| 000 |" not in text
    assert results[0]["claims"][0]["source"] == "“Feedforward Networks and Backpropagation”"


def test_without_matplotlib_the_claims_are_checked_and_one_note_says_why_no_figures(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    lines = []
    _, results = run("piecewise_linear", out=tmp_path, quick=True, log=lines.append)
    notes = [line for line in lines if "matplotlib" in line]
    assert len(notes) == 1 and "pip install 'chainrule[plot]'" in notes[0]
    assert results[0]["claims"] and all(c["verdict"] == "reproduced" for c in results[0]["claims"])
    assert not list(tmp_path.glob("*.png")) and (tmp_path / "report.md").is_file()


def _fails(ctx):
    raise RuntimeError("boom")


def test_a_failing_experiment_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "fails", ExperimentSpec("fails", "fails", ("000",), _fails))
    out = tmp_path / "deep" / "exp"
    with pytest.raises(RuntimeError, match="boom"):
        run("fails", out=out, log=lambda *a: None)
    assert not (tmp_path / "deep").exists()  # before: an empty folder was left


def test_all_says_which_experiment_runs(tmp_path, monkeypatch):
    monkeypatch.setattr("chainrule.experiments.runner._load_all", lambda: None)
    keep = {"parameters": REGISTRY["parameters"], "parameters_again": REGISTRY["parameters"]}
    monkeypatch.setattr("chainrule.experiments.runner.REGISTRY", keep)
    lines = []
    run("all", out=tmp_path, log=lines.append)
    starts = [line for line in lines if line.endswith("...")]
    assert [s.split(" [")[0] for s in starts] == ["(1/2)", "(2/2)"]


def test_stage_progress_without_tqdm_prints_an_eta_per_stage(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    lines = []
    progress = StageProgress(3, "[demo] width", log=lines.append)
    for _ in range(3):
        progress.step()
    progress.close()
    assert len(lines) == 3 and all("ETA" in line for line in lines)
    assert lines[0].startswith("[demo] width 1/3, ") and lines[-1].endswith("ETA 0 s")
