"""The ready-made configs in examples/ train to what their comments promise, and docs/config.md is
the schema's current reference."""

from pathlib import Path

import numpy as np
import pytest

from chainrule import runs
from chainrule.runs.reference import markdown

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))

# The metric each example must reach on its validation split (on its training data when it has
# none): far above chance (1/3, 1/2, 1/10) and a fit that explains most of the variance.
EXPECTED = {"spiral": ("val_accuracy", 0.95), "moons": ("val_accuracy", 0.9), "xor": ("accuracy", 1.0),
            "digits": ("val_accuracy", 0.93), "csv_classification": ("val_accuracy", 0.9),
            "csv_regression": ("val_r2", 0.95), "vanishing": None}


def test_every_example_has_an_expectation():
    assert {p.stem for p in EXAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_trains(path, monkeypatch):
    if path.stem == "digits":
        pytest.importorskip("sklearn")
    monkeypatch.chdir(ROOT)  # CSV paths in the examples are relative to the repository
    run = runs.build(runs.load_config(path))
    if EXPECTED[path.stem] is None:  # the vanishing-gradient lesson: it must *not* train its first layers
        with pytest.warns(UserWarning, match="vanishing gradients"):
            run.fit()
        norms = run.recorder.series["grad_norm"]
        first, last = np.median(norms[list(norms)[0]]), np.median(norms[list(norms)[-1]])
        # δ shrinks by σ' ≤ 1/4 at each of 8 sigmoid layers (≈ 3e-4 measured); a network whose first
        # layers did learn would be within 1e-2 of the last
        assert first < 1e-2 * last
        return
    run.fit()
    metric, floor = EXPECTED[path.stem]
    assert run.trainer.history[metric][-1] >= floor


def test_example_through_the_command_line(tmp_path, monkeypatch, capsys):
    from chainrule.cli import main

    monkeypatch.chdir(ROOT)
    out = tmp_path / "flowers"
    assert main(["train", "examples/csv_classification.toml", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(out), "examples/data/flowers.csv"]) == 0
    predicted = capsys.readouterr().out.splitlines()[1:]
    assert {row.split(",")[0] for row in predicted} == {"setosa", "versicolor", "virginica"}


def test_config_reference_is_current():
    written = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert written == markdown(), "docs/config.md is stale: python -m chainrule.runs.reference > docs/config.md"
