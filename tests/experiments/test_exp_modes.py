"""Experiment ``modes``: quick run reproduces every claim; the helpers."""

import math

import numpy as np

from chainrule.experiments import modes as exp
from chainrule.experiments import run


def test_quick_run_reproduces_every_claim(tmp_path):
    _, results = run("modes", out=tmp_path, quick=True, log=lambda *a: None)
    claims = results[0]["claims"]
    assert len(claims) >= 10
    assert [c["claim"] for c in claims if c["verdict"] != "reproduced"] == []


def test_crossover_interpolates_in_log_space():
    # ratio 4 at x = 10, 1/4 at x = 1000: log-linear, crosses 1 at x = 100
    assert abs(exp.crossover([10, 1000], [4.0, 0.25]) - 100) < 1e-9
    assert math.isnan(exp.crossover([1, 2], [2.0, 3.0]))


def test_peak_bytes_sees_numpy_buffers():
    assert exp.peak_bytes(lambda: np.ones(1_000_000)) >= 8_000_000
