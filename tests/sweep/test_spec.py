"""SWEEP.toml checked up front: every mistake is one ConfigError line naming the key."""

import pytest

from chainrule.errors import ConfigError
from chainrule.sweep import parse_spec
from chainrule.sweep.space import parse_space

from .conftest import tiny


def spec(**kw):
    return {"base": tiny(), "seeds": 2, "space": {"optimizer.learning_rate": [0.01, 0.1]}, **kw}


def error(raw):
    with pytest.raises(ConfigError) as e:
        parse_spec(raw)
    message = str(e.value)
    assert "\n" not in message
    return message


def test_unknown_space_key_names_the_closest_valid_key():
    # [optimizer] is open (any option of the optimizer): the optimizer itself names the closest
    assert "did you mean 'learning_rate'" in error(spec(space={"optimizer.learnig_rate": [0.1]}))
    assert "did you mean 'training.epochs'" in error(spec(space={"training.epoch": [1, 2]}))
    assert "did you mean 'model.hidden'" in error(spec(space={"model.hiden": [[4]]}))


def test_unknown_spec_key_names_the_closest():
    assert "did you mean 'strategy'" in error(spec(stratgy="grid"))


@pytest.mark.parametrize("space, says", [
    ({}, "[space] is empty"),
    ({"optimizer.learning_rate": []}, "choices are empty"),
    ({"optimizer.learning_rate": {"low": 0.1, "high": 0.01}}, "the range is empty"),
    ({"optimizer.learning_rate": {"low": 0.0, "high": 0.1, "log": True}}, "needs low > 0"),
    ({"optimizer.learning_rate": {"low": 0.01, "high": 0.1, "step": 0.01, "log": True}}, "contradict"),
    ({"optimizer.learning_rate": {"low": 0.01, "high": 0.1}}, "a grid needs values"),
    ({"model.activation": ["relu", "relu"]}, "repeat a value"),
    ({"seed": [1, 2]}, "its own dimension"),
])
def test_empty_or_contradictory_space_is_one_line(space, says):
    assert says in error(spec(space=space))


def test_each_value_is_checked_by_the_run_schema():
    message = error(spec(space={"model.activation": ["relu", "rleu"]}))
    assert "rleu" in message and "model.activation" in message


def test_strategy_and_trials_must_agree():
    assert "trials = 3 with strategy" in error(spec(strategy="grid", trials=3))
    assert "needs trials = N" in error(spec(strategy="tpe"))


def test_val_metric_needs_validation_data():
    assert "needs validation data" in error(spec(metric="val_loss"))


def test_ranges_and_grids():
    dims = parse_space({"optimizer": {"learning_rate": {"low": 0.001, "high": 0.1, "log": True, "num": 3}},
                        "training.batch_size": {"low": 8, "high": 32, "step": 8}, "model.hidden": [[4], [8, 8]]})
    assert dims["optimizer.learning_rate"].grid() == [0.001, 0.01, 0.1]  # 10^-3..10^-1, evenly in log
    assert dims["training.batch_size"].grid() == [8, 16, 24, 32]
    assert dims["model.hidden"].grid() == [[4], [8, 8]]
    s = parse_spec(spec(space={"optimizer.learning_rate": [0.01, 0.1], "model.hidden": [[4], [8, 8]]}))
    assert s.n_configs == 4 and s.seeds == [0, 1] and s.metric == "loss" and s.direction == "minimize"
    assert s.config_for({"model.hidden": [8, 8]})["model"]["hidden"] == [8, 8]


def test_example_sweeps_are_valid():
    from pathlib import Path

    from chainrule.sweep import load_spec

    examples = sorted((Path(__file__).resolve().parents[2] / "examples" / "sweeps").glob("*.toml"))
    assert len(examples) >= 4
    for path in examples:
        assert load_spec(path).n_configs >= 1, path


def test_metric_must_be_a_history_column():
    assert "did you mean 'val_accuracy'" in error(spec(metric="val_acuracy", base={**tiny(val_fraction=0.2)}))
    assert "valid: loss, accuracy, lr" in error(spec(metric="r2"))


def test_a_missing_extra_says_what_to_install(monkeypatch):
    import sys

    from chainrule.errors import OptionalDependencyError
    from chainrule.sweep.cluster import require

    monkeypatch.setitem(sys.modules, "distributed", None)  # import of it raises ImportError
    with pytest.raises(OptionalDependencyError, match=r'pip install "chainrule\[sweep\]"') as e:
        require()
    assert "distributed is not installed" in str(e.value)


def test_optuna_is_needed_by_searches_and_pruners_only(monkeypatch, tmp_path):
    """A grid (with --workers 0: no Dask either) runs without Optuna; tpe says what to install."""
    import sys

    from chainrule.errors import OptionalDependencyError
    from chainrule.sweep import run

    monkeypatch.setitem(sys.modules, "optuna", None)
    spec = {"base": tiny(epochs=1), "metric": "loss", "space": {"optimizer.learning_rate": [0.1]}}
    assert len(run(spec, out=tmp_path / "grid", workers=0, verbose=False).rows) == 1
    tpe = {**spec, "strategy": "tpe", "trials": 2, "space": {"optimizer.learning_rate": {"low": 0.01, "high": 0.1}}}
    with pytest.raises(OptionalDependencyError, match='strategy = "tpe".*optuna is not installed'):
        run(tpe, out=tmp_path / "tpe", workers=0, verbose=False)
    assert not (tmp_path / "tpe").exists()
