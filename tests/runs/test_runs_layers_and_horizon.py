"""[model] layers = [d_in, *hidden, d_out] as nn.MLP takes it, checked against the data; a
[schedule] whose horizon is left out derives it from epochs × steps per epoch."""

import pytest

from chainrule import runs
from chainrule.cli import main
from chainrule.errors import ConfigError

MOONS = {"data": {"name": "moons", "options": {"n": 100}}, "training": {"epochs": 3, "batch_size": 16}}


def test_layers_is_the_mlp_width_list():
    cfg = runs.complete({**MOONS, "model": {"layers": [2, 8, 4, 2]}})
    assert cfg["model"]["hidden"] == [8, 4]
    run = runs.build(cfg)
    assert [layer.d_out for layer in run.model.layers if type(layer).__name__ == "Dense"] == [8, 4, 2]
    assert runs.complete(run.config) == run.config  # a run's saved config (layers and hidden) reads back


@pytest.mark.parametrize("layers, says", [
    ([3, 8, 2], "model.layers = [3, 8, 2] has input width 3 but the data needs 2 (its features): "
                "write layers = [2, 8, 2] (or hidden = [8], and the data sets both ends)"),
    ([2, 8, 3], "model.layers = [2, 8, 3] has output width 3 but the data needs 2 (classes or target columns): "
                "write layers = [2, 8, 2]"),
])
def test_layers_that_do_not_fit_the_data_say_which_width_it_needs(layers, says):
    with pytest.raises(ConfigError) as e:
        runs.build({**MOONS, "model": {"layers": layers}})
    assert str(e.value).startswith(says) and "\n" not in str(e.value)


def test_inspect_says_the_same(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('[data]\nname = "moons"\n[model]\nlayers = [2, 8, 3]\n')
    assert main(["inspect", str(path), "--out", str(tmp_path / "i")]) == 2
    assert "output width 3 but the data needs 2" in capsys.readouterr().err
    assert not (tmp_path / "i").exists()


@pytest.mark.parametrize("model, says", [
    ({"layers": [2, 8, 2], "hidden": [4]},
     "config: model.hidden is [4] but model.layers = [2, 8, 2] has hidden widths [8]; give one of them"),
    ({"layers": [2]}, "config: model.layers must be a list of at least two positive integers"),
    ({"layers": [2, 0, 2]}, "config: model.layers must be a list of at least two positive integers"),
])
def test_bad_layers_are_config_errors(model, says):
    with pytest.raises(ConfigError) as e:
        runs.complete({"model": model})
    assert str(e.value).startswith(says)


def _trained(schedule, epochs=3):
    cfg = {**MOONS, "schedule": schedule, "training": {**MOONS["training"], "epochs": epochs}}
    run = runs.build(cfg)
    run.fit()
    return run.trainer.optimizer, len(run.X_train)


@pytest.mark.parametrize("epochs", [1, 3])
def test_cosine_without_total_steps_reaches_its_floor_at_the_last_step(epochs):
    opt, n = _trained({"name": "cosine", "min_lr": 1e-4}, epochs)
    steps = epochs * -(-n // 16)
    assert opt.step_count == steps
    s = opt.schedule  # the optimizer's k-th step ran at s(k), k = 0 .. steps - 1
    assert s(0) == 0.01
    assert s(steps - 1) == pytest.approx(1e-4, abs=1e-15)  # the floor, at the last step
    assert s(steps - 2) > 1e-4 + 1e-7  # and not before it: the horizon is the run's
    assert s.total_steps == steps - 1


def test_a_given_total_steps_is_kept():
    opt, _ = _trained({"name": "cosine", "total_steps": 7})
    assert opt.schedule.total_steps == 7


def test_a_warmup_into_cosine_gets_the_rest_of_the_run():
    opt, n = _trained({"name": "warmup", "warmup_steps": 4, "then": {"name": "cosine", "min_lr": 1e-4}})
    steps = 3 * -(-n // 16)
    s = opt.schedule
    assert s(3) == pytest.approx(0.01) and s(steps - 1) == pytest.approx(1e-4, abs=1e-15)
    assert s(steps - 2) > 1e-4 + 1e-7


def test_the_config_check_accepts_cosine_without_total_steps_and_still_checks_its_options():
    runs.complete({"schedule": {"name": "cosine"}})
    with pytest.raises(ConfigError, match=r"schedule\.min_lr"):
        runs.complete({"schedule": {"name": "cosine", "min_lr": -1.0}})
    with pytest.raises(ConfigError, match=r"schedule\.total_step\b.*did you mean 'total_steps'"):
        runs.complete({"schedule": {"name": "cosine", "total_step": 10}})
