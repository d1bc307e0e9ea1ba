"""``chainrule init``: a commented starter config written from the schema, that trains as written,
passes ``inspect``, and never replaces a file unless told to."""

import json
import re
import tomllib

import numpy as np
import pytest

from chainrule import runs
from chainrule.cli import main
from chainrule.data import dataset_names
from chainrule.runs.schema import SECTIONS
from chainrule.runs.starter import starter_config


def quick(path, epochs=2):
    """The written file with only its epochs changed (the test's one override)."""
    text = path.read_text()
    assert text.count("\nepochs = 100 ") == 1
    path.write_text(text.replace("\nepochs = 100 ", f"\nepochs = {epochs} "))
    return path


def test_the_starter_config_trains_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert "wrote config.toml" in capsys.readouterr().out
    quick(tmp_path / "config.toml")
    assert main(["train", "config.toml", "--out", "run", "--quiet"]) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["data"]["source"] == "spiral"


def test_inspect_finds_no_problems_in_the_starter_config(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["init", "-o", str(tmp_path / "c.toml")]) == 0
    assert main(["inspect", str(tmp_path / "c.toml"), "--out", str(tmp_path / "inspect")]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_every_key_of_the_schema_is_in_the_file_at_its_default():
    text = starter_config()
    cfg = tomllib.loads(text)
    assert runs.complete(cfg) == runs.defaults()  # what is set is the defaults
    section = ""
    seen = set()
    for line in text.splitlines():
        head = re.match(r"\[(\w+)\]", line)
        if head:
            section = head.group(1)
        key = re.match(r"(?:# )?(\w+) = ", line)
        if key:
            seen.add(f"{section}.{key.group(1)}" if section else key.group(1))
    expected = {f"{s.name}.{f.name}" if s.name else f.name for s in SECTIONS for f in s.fields}
    assert expected - seen == set()
    for s in SECTIONS:  # each with its one-line meaning
        for f in s.fields:
            assert f.doc in text


def test_every_commented_key_is_a_valid_value_when_uncommented():
    """Uncommenting any one line gives a valid config (the examples and the defaults are real values)."""
    lines = starter_config().splitlines()
    for k, line in enumerate(lines):
        if re.match(r"# \w+ = ", line):
            edited = lines[:k] + [line[2:]] + lines[k + 1:]
            raw = tomllib.loads("\n".join(edited))
            if "path" in raw["data"] or "label" in raw["data"] or "features" in raw["data"]:
                continue  # CSV keys beside a built-in dataset are refused, by design (test_runs_config_checks)
            if "layers" in raw["model"]:
                assert runs.complete(raw)["model"]["hidden"] == [64, 64]
                continue
            runs.complete(raw)


@pytest.mark.parametrize("name", dataset_names())
def test_every_dataset_gives_a_valid_config(name):
    assert runs.complete(tomllib.loads(starter_config(name)))["data"]["name"] == name


def test_the_csv_template_trains_once_its_file_exists(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--dataset", "csv", "-o", "c.toml"]) == 0
    assert "data.path and data.label" in capsys.readouterr().out
    X = np.random.default_rng(0).standard_normal((40, 2))
    (tmp_path / "data.csv").write_text("x0,x1,label\n" + "".join(
        f"{a:.4f},{b:.4f},{'up' if a + b > 0 else 'down'}\n" for a, b in X))
    text = quick(tmp_path / "c.toml").read_text()
    (tmp_path / "c.toml").write_text(text.replace("\n# gradient_check = true", "\ngradient_check = false")
                                     .replace("\nplots = true", "\nplots = false"))
    assert main(["train", "c.toml", "--out", "run", "--quiet"]) == 0
    prep = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert prep["features"] == ["x0", "x1"] and prep["classes"] == ["down", "up"]


def test_an_existing_file_is_kept_unless_forced(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text("# mine\n")
    assert main(["init", "-o", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"chainrule: error: init: {path} exists; use --force to overwrite it\n"
    assert path.read_text() == "# mine\n"
    assert main(["init", "-o", str(path), "--force", "--dataset", "moons"]) == 0
    assert 'name = "moons"' in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]  # no temporary file left


@pytest.mark.parametrize("args, says", [
    (["--dataset", "moon"], "init --dataset: unknown dataset 'moon' (did you mean 'moons'?)"),
    (["-o", "{tmp}/no/such/c.toml"], "init: the folder {tmp}/no/such does not exist"),
    (["-o", "{tmp}"], "init: {tmp} is a folder"),
])
def test_bad_arguments_are_one_line_and_write_nothing(tmp_path, capsys, args, says):
    args = [a.format(tmp=tmp_path) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "c.toml")]
    assert main(["init", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: " + says.format(tmp=tmp_path)) and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
