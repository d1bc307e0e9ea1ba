"""Experiment vanishing in quick mode: (1/4)^k, seed 003 fig. 8, depth sweeps — every claim reproduced."""

import json

from chainrule.experiments import run


def test_vanishing_quick_reproduces_every_claim(tmp_path):
    out, results = run("vanishing", out=tmp_path, quick=True, log=lambda *a: None)
    (result,) = results
    failed = [c for c in result["claims"] if c["verdict"] != "reproduced"]
    assert not failed, failed
    assert len(result["claims"]) >= 4
    for figure in ("sigmoid_vs_relu_uniform_init.png", "depth_sweep.png"):
        assert (tmp_path / figure).is_file()
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["experiments"][0]["all_reproduced"] is True
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report.html").is_file()
