"""The memory budget (issue 12, cause 6): a config whose estimated memory exceeds
[limits] memory_gb is refused before anything is allocated, with the estimate and how to
raise the limit; raising it lets the config through."""

import subprocess
import sys
import textwrap

import pytest

from chainrule import runs
from chainrule.data.registry import DATASETS, dataset_shape, load_dataset
from chainrule.errors import ConfigError
from chainrule.runs.budget import estimate, optimizer_state

HUGE = [
    ({"data": {"name": "moons", "options": {"n": 1_000_000_000}}}, "1000000000 samples"),
    ({"data": {"name": "moons", "options": {"n": 1e9}}}, "1000000000 samples"),
    ({"data": {"name": "spiral", "options": {"n_per_class": 1e9}}}, "3000000000 samples"),
    ({"data": {"name": "blobs", "options": {"dim": 10_000_000}}}, "10000000 inputs"),
    ({"model": {"hidden": [16000, 16000]}}, "hidden = [16000, 16000]"),
    ({"data": {"path": "never-read.csv", "label": "y"}, "model": {"hidden": [16000, 16000]}}, "before reading"),
]


@pytest.mark.parametrize("cfg, says", HUGE)
def test_too_big_is_one_config_error_with_the_estimate(cfg, says):
    with pytest.raises(ConfigError) as info:
        runs.complete(cfg)
    message = str(info.value)
    assert "limits.memory_gb: this run would need about" in message and says in message
    assert "raise the limit with [limits] memory_gb = " in message and "\n" not in message


def test_raising_the_limit_lets_it_through():
    cfg = {"model": {"hidden": [16000, 16000]}}
    with pytest.raises(ConfigError, match=r"memory_gb = (\d+)") as info:
        runs.complete(cfg)
    suggested = int(info.value.args[0].rsplit("memory_gb = ", 1)[1])
    runs.complete({**cfg, "limits": {"memory_gb": suggested}})  # no error


def test_the_estimate_counts_the_optimizer_state():
    """hidden = [16000, 16000]: P = 256,064,000 + ... parameters; Adam keeps 2 arrays per
    parameter, SGD none: the difference is exactly 2 × (state + copy) × 8 bytes × P."""
    base = runs.complete({"model": {"hidden": [100]}})
    adam, sgd = dict(base), {**base, "optimizer": {**base["optimizer"], "name": "sgd"}}
    a, s = estimate(adam, 300, 2, 3), estimate(sgd, 300, 2, 3)
    P = 2 * 100 + 100 + 100 * 3 + 3
    assert a["parameters"] == s["parameters"] == P * 8
    assert a["optimizer state"] - s["optimizer state"] == 2 * P * 8 and a["copies"] - s["copies"] == 2 * P * 8


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_dataset_declares_the_shape_it_generates(name):
    """The registry's declared shape at the default options is the shape the generator makes:
    a dataset added without a shape, or with a wrong one, fails here rather than in the budget."""
    X, y = load_dataset(name)
    outputs = len(set(y.tolist())) if DATASETS[name].task == "classification" else (1 if y.ndim == 1 else y.shape[1])
    assert dataset_shape(name, {}) == (X.shape[0], X.shape[1], outputs)


@pytest.mark.parametrize("optimizer, arrays", [
    ({"name": "sgd"}, 0), ({"name": "sgd", "momentum": 0.5}, 1), ({"name": "momentum"}, 1), ({"name": "nesterov"}, 1),
    ({"name": "adagrad"}, 1), ({"name": "rmsprop"}, 1), ({"name": "rmsprop", "centered": True}, 2),
    ({"name": "adam"}, 2), ({"name": "adam", "amsgrad": True}, 3), ({"name": "adamw"}, 2),
    # L-BFGS: m pairs (s, y) of flat vectors, the previous step and gradient (2 more), and ρ (m
    # numbers, which round the count up by one): 2m + 3
    ({"name": "lbfgs", "history_size": 3}, 9), ({"name": "lbfgs"}, 23),
])
def test_the_optimizer_state_is_counted_from_the_optimizer(optimizer, arrays):
    """Hand-counted arrays per parameter: what each optimizer's update rule keeps."""
    assert optimizer_state(runs.complete({"optimizer": optimizer})) == arrays


def test_dataset_shapes_from_options():
    assert dataset_shape("spiral", {"n_per_class": 10, "n_classes": 4}) == (40, 2, 4)
    assert dataset_shape("blobs", {"centers": [[0, 0, 0], [1, 1, 1]]}) == (200, 3, 2)
    assert dataset_shape("moons", {"n": "x"}) is None  # the generator reports the type


def test_the_real_shape_of_a_csv_is_checked_before_the_model_is_built(tmp_path):
    path = tmp_path / "wide.csv"
    columns = 3000
    path.write_text(",".join(f"c{j}" for j in range(columns)) + ",y\n" + (",".join(["1"] * columns) + ",0\n") * 4)
    cfg = {"data": {"path": str(path), "label": "y"}, "model": {"hidden": [20000]}, "limits": {"memory_gb": 1}}
    runs.complete(cfg)  # the config alone (1 input) fits ...
    with pytest.raises(ConfigError, match=r"4 samples × 3000 inputs"):
        runs.build(cfg)  # ... the CSV's 3000 inputs do not


SCRIPT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from chainrule.cli import main
sys.exit(main(["train", sys.argv[1], "--out", sys.argv[2], "--quiet"]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
@pytest.mark.parametrize("options", ['[data]\nname = "moons"\noptions = { n = 1000000000 }',
                                     '[data]\nname = "spiral"\noptions = { n_per_class = 1e9 }',
                                     '[data]\nname = "blobs"\noptions = { dim = 10000000 }',
                                     '[model]\nhidden = [16000, 16000]'])
def test_under_an_address_space_limit_the_refusal_is_clean(tmp_path, options):
    """Under a 1 GiB address space the process gets a one-line error and exit 2, never a
    MemoryError (exit 1) or a kill."""
    (tmp_path / "c.toml").write_text(options + "\n")
    script = textwrap.dedent(SCRIPT.format(limit=1 << 30))
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "c.toml"), str(tmp_path / "r")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-500:]
    assert result.stderr.startswith("chainrule: error: ") and "memory_gb" in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "r").exists()
