"""Issue 11, defect 12: no raw NumPy overflow lines before the divergence message on the CLI."""

import warnings

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.diagnostics.overflow import held_back
from chainrule.errors import NonFiniteError


def test_a_run_that_overflows_prints_one_line_that_says_so(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    # a step of 1e300 overflows the first matmul of step 2; before: two 'chainrule: warning: overflow
    # encountered in dot' / 'invalid value' lines came first
    cfg.write_text('[data]\nname = "moons"\n[optimizer]\nname = "sgd"\nlearning_rate = 1e300\n'
                   '[training]\nepochs = 3\n')
    assert main(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "encountered" not in err and err.count("\n") == 1, err
    assert err.startswith("chainrule: error: loss became nan") and "NumPy reported overflow" in err


def test_held_back_counts_and_amends_a_non_finite_error():
    with pytest.raises(NonFiniteError, match=r"loss became inf \(NumPy reported overflow \(1×\) on the way there\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a RuntimeWarning would raise here instead
            with held_back():
                np.array([1e300]) * 1e300
                raise NonFiniteError("loss became inf")


def test_held_back_reports_once_when_training_ends_well():
    with pytest.warns(RuntimeWarning, match=r"overflow \(2×\) during training \(its warnings held back\)") as caught:
        with held_back():
            np.array([1e300]) * 1e300
            np.array([1e300]) * 1e300
    assert len(caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with held_back():
            np.array([1.0]) * 2  # nothing to report
