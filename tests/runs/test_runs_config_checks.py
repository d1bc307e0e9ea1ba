"""The whole configuration is checked before anything is built or written: every mistake of a
config in one error, each naming the file and the section.key; a [data] path means CSV data;
initializers with parameters are writable in a config."""

import json

import numpy as np
import pytest

from chainrule import runs
from chainrule.cli import main
from chainrule.errors import ConfigError

CSV_HEADER = "a,b,c,class\n"


def write_csv(path, n=60):
    X = np.random.default_rng(0).standard_normal((n, 3))
    rows = [",".join(f"{v:.4f}" for v in x) + (",yes\n" if x[0] > 0 else ",no\n") for x in X]
    path.write_text(CSV_HEADER + "".join(rows))
    return path


def write(path, text):
    path.write_text(text)
    return path


QUICK = "[training]\nepochs = 2\ngradient_check = false\n[output]\nplots = false\n"


# --- 1. a path means CSV data ------------------------------------------------------------------

def test_a_path_without_name_trains_on_the_csv(tmp_path, capsys):
    write_csv(tmp_path / "d.csv")
    config = write(tmp_path / "c.toml", f'[data]\npath = "{tmp_path / "d.csv"}"\nlabel = "class"\n' + QUICK)
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    prep = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert manifest["data"]["source"] == str(tmp_path / "d.csv")  # not the built-in spiral
    assert prep["features"] == ["a", "b", "c"] and prep["classes"] == ["no", "yes"]
    assert runs.load_config(config)["data"]["name"] == "csv"


def test_inspect_reads_the_same_data(tmp_path):
    write_csv(tmp_path / "d.csv")
    cfg = runs.complete({"data": {"path": str(tmp_path / "d.csv"), "label": "class"}})
    X, y, meta = runs.load_data(cfg)  # what inspect_config and build both read
    assert X.shape == (60, 3) and meta["features"] == ["a", "b", "c"]
    pytest.importorskip("matplotlib")
    text, _ = runs.inspect_config(cfg, tmp_path / "inspect")
    assert "3" in text and json.loads((tmp_path / "inspect" / "inspect.json").read_text())


@pytest.mark.parametrize("data, says", [
    ({"name": "moons", "path": "d.csv", "label": "class"},
     "c.toml: data.path: path and label are for CSV data, but data.name = 'moons' is a built-in dataset with its "
     "own features and labels: remove name (a path means CSV data) or remove path, label"),
    ({"label": "class"},
     "c.toml: data.label: label is for CSV data, but without a path the data is the default dataset 'spiral' with "
     'its own features and labels: add path = "your.csv" for CSV data, or remove label'),
    ({"name": "moons", "features": ["a"]}, "c.toml: data.features: features is for CSV data, but data.name = "
                                           "'moons' is a built-in dataset"),
    ({"path": "d.csv", "label": "class", "options": {"noise": 0.1}},
     "c.toml: data.options are options of a built-in dataset's generator; CSV data takes none, found noise"),
])
def test_csv_keys_next_to_a_built_in_dataset_are_errors(tmp_path, capsys, data, says):
    lines = [f"{k} = {json.dumps(v)}" for k, v in data.items() if k != "options"]
    if "options" in data:
        lines.append("options = { noise = 0.1 }")
    config = write(tmp_path / "c.toml", "[data]\n" + "\n".join(lines) + "\n" + QUICK)
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"chainrule: error: {tmp_path / says}") and err.count("\n") == 1
    assert not out.exists()


# --- 6. every mistake at once, before anything is written ---------------------------------------

TWO_TYPOS = '[optimizer]\nname = "adma"\n[loss]\nname = "cross_entropi"\n' + QUICK


def test_two_typos_are_both_reported_and_no_run_folder_is_made(tmp_path, capsys):
    config = write(tmp_path / "c.toml", TWO_TYPOS)
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"chainrule: error: 2 errors in {config}: ")
    assert f"{config}: optimizer.name: unknown optimizer 'adma'" in err and "did you mean 'adam'?" in err
    assert f"{config}: loss.name: unknown loss 'cross_entropi' (did you mean 'cross_entropy'?)" in err
    assert not out.exists()


def test_inspect_reports_them_too(tmp_path, capsys):
    config = write(tmp_path / "c.toml", TWO_TYPOS)
    out = tmp_path / "inspected"
    assert main(["inspect", str(config), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "optimizer.name" in captured.err and "loss.name" in captured.err
    assert "no problems" not in captured.out and not out.exists()


def test_every_kind_of_mistake_in_one_error():
    raw = {"sed": 1, "model": {"hidden": "64", "activation": "rleu", "init": "normal(0.1"},
           "training": {"epochs": 0, "batchsize": 8}, "optimizer": {"name": "adam", "momentom": 0.9},
           "schedule": {"name": "cosine", "total_step": 10}, "data": {"name": "spirall"}}
    with pytest.raises(ConfigError) as err:
        runs.complete(raw, source="c.toml")
    errors, message = err.value.errors, str(err.value)
    assert message.startswith(f"{len(errors)} errors in c.toml: c.toml: unknown key 'sed' (did you mean 'seed'?); ")
    assert "\n" not in message and len(message) <= 600
    assert all(e.startswith("c.toml: ") for e in errors)
    # model.hidden has the wrong type, so [model]'s names wait for it to be fixed
    named = ["'sed'", "model.hidden", "training.batchsize", "training.epochs", "data.name", "optimizer.momentom",
             "schedule.total_step"]
    assert len(errors) == len(named) and all(key in e for key, e in zip(named, errors)), errors
    assert "unknown dataset 'spirall' (did you mean 'spiral'?)" in errors[4]
    assert "did you mean 'momentum'" not in errors[5] and "'adam' got an unknown argument 'momentom'" in errors[5]
    assert "did you mean 'total_steps'?" in errors[6]
    assert all(key in message for key in named)  # in full or by key, every error is in the one message


def test_many_errors_still_make_one_short_line():
    raw = {"training": {f"typo{k}": 1 for k in range(30)}, "data": {"name": "x" * 5000}}
    with pytest.raises(ConfigError) as err:
        runs.complete(raw, source="c.toml")
    message = str(err.value)
    assert len(err.value.errors) == 31 and len(message) <= 600 and "\n" not in message
    assert "c.toml: training.typo0: unknown key 'typo0' in [training]" in message
    assert "more: training.typo" in message and message.endswith("...")
    assert "data.name must be a name, found a string of 5000 characters" in err.value.errors[-1]


def test_names_of_a_well_typed_model_are_all_checked():
    raw = {"model": {"hidden": [8, 8], "activation": ["relu", "rleu"], "output_activation": "sigmoidd",
                     "init": "normal(0.1"}}
    with pytest.raises(ConfigError) as err:
        runs.complete(raw, source="c.toml")
    errors = err.value.errors
    assert [e.split(" ")[1].rstrip(":") for e in errors] == ["model.init", "model.activation",
                                                             "model.output_activation"]
    assert "cannot read initializer 'normal(0.1'" in errors[0] and '"uniform(a, b)"' in errors[0]


@pytest.mark.parametrize("raw, says", [
    ({"optimizer": {"name": "adam", "learning_rate": -1.0}},
     "c.toml: optimizer.learning_rate: Adam(learning_rate=...): expected a finite real number in (0, inf) or a "
     "Schedule, got -1.0"),
    ({"schedule": {"name": "step"}}, "c.toml: schedule.step_size: schedule 'step' needs step_size"),
    ({"schedule": {"total_steps": 10}}, "c.toml: schedule.name is needed"),
    ({"data": {"name": "moons", "options": {"noize": 0.1}}},
     "c.toml: data.options.noize: dataset 'moons' has no parameter 'noize' (did you mean 'noise'?)"),
])
def test_values_only_the_optimizer_or_dataset_can_judge(raw, says):
    with pytest.raises(ConfigError) as err:
        runs.complete(raw, source="c.toml")
    assert str(err.value).startswith(says), str(err.value)


def test_a_single_error_reads_as_before():
    with pytest.raises(ConfigError) as err:
        runs.complete({"training": {"epochs": 0}}, source="c.toml")
    assert str(err.value) == "c.toml: training.epochs must be a positive integer, found 0"


def test_a_completed_config_completes_again():
    cfg = runs.complete({"data": {"path": "x.csv", "label": "y"}, "model": {"init": {"name": "normal", "std": 0.1}}})
    assert runs.complete(json.loads(json.dumps(cfg))) == cfg


# --- 8. initializers with parameters in a config ------------------------------------------------

@pytest.mark.parametrize("spelling", ['"normal(0.1)"', '{ name = "normal", std = 0.1 }'])
def test_a_parametrized_init_in_a_config(tmp_path, spelling):
    config = write(tmp_path / "c.toml", f"[model]\nhidden = [400]\ninit = {spelling}\n")
    run = runs.build(runs.load_config(config))
    w = run.model.params["1.weight"]  # (layer 0 is the input standardization)
    # std of 800 draws of N(0, 0.1²): standard error 0.1/√1600 = 0.0025; ±5 s.e.
    assert abs(float(np.std(w)) - 0.1) < 5 * 0.1 / np.sqrt(2 * w.size)


def test_the_lectures_uniform_init_trains_from_a_config(tmp_path):
    config = write(tmp_path / "c.toml", '[model]\nhidden = [8]\nactivation = "sigmoid"\n'
                   'init = "uniform(-0.5, 0.5)"\n' + QUICK)
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    model = json.loads((tmp_path / "run" / "model" / "model.json").read_text())
    assert "uniform(-0.5, 0.5)" in json.dumps(model)
    loaded = runs.load_run(tmp_path / "run")
    assert str(loaded.model.layers[1].init_spec) == "uniform(-0.5, 0.5)"


def test_a_bad_init_in_a_config_names_the_spellings(tmp_path, capsys):
    config = write(tmp_path / "c.toml", '[model]\ninit = { name = "uniform", a = 0.5 }\n' + QUICK)
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == (f"chainrule: error: {config}: model.init: initializer 'uniform' takes a, b (missing b), e.g. "
                   "{'name': 'uniform', 'a': ..., 'b': ...}\n")
    assert not (tmp_path / "run").exists()
