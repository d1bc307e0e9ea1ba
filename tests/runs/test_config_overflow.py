"""Numbers in a config that overflow downstream are ConfigErrors naming the key (issue 12, cause 5)."""

import pytest

from chainrule import runs
from chainrule.data import load_dataset
from chainrule.errors import ConfigError


def test_a_huge_integer_for_a_float_key(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[optimizer]\nlearning_rate = 1" + "0" * 400 + "\n")
    with pytest.raises(ConfigError, match=r"optimizer\.learning_rate must be a float, found an integer of \d+ bits"):
        runs.load_config(path)


def test_a_huge_integer_in_a_dict_config():
    with pytest.raises(ConfigError, match=r"data\.val_fraction must be a float"):
        runs.complete({"data": {"val_fraction": 10 ** 400}})


def test_x_range_wider_than_the_largest_float():
    cfg = {"data": {"name": "regression_1d", "options": {"x_range": [-1e308, 1e308]}}, "model": {"hidden": [2]},
           "training": {"epochs": 1}}
    with pytest.raises(ConfigError, match=r"x_range = \[-1e\+308, 1e\+308\] is wider than the largest float"):
        runs.build(cfg)


HOSTILE = [10 ** 30, -1, 1e308, float("nan"), float("inf"), "x", True, None, [1, 2], [[1e308, 1e308]],
           [[1], [1, 2]]]
OPTIONS = {"moons": ["n", "noise", "seed"], "circles": ["n", "noise", "factor", "seed"],
           "blobs": ["centers", "std", "dim", "seed"], "spiral": ["n_classes", "noise", "turns", "seed"],
           "regression_1d": ["target", "noise", "seed", "x_range"]}


@pytest.mark.parametrize("name, key", [(n, k) for n, keys in OPTIONS.items() for k in keys])
def test_generator_options_end_in_a_result_or_a_config_error(name, key):
    """Every hostile value of every option: a finite dataset or a ConfigError, never an
    OverflowError, a TypeError from NumPy or a dataset holding inf/NaN."""
    import numpy as np

    for value in HOSTILE:
        try:
            X, y = load_dataset(name, **{key: value})
        except ConfigError:
            continue
        assert np.all(np.isfinite(X)) and np.all(np.isfinite(y)), (name, key, value)
