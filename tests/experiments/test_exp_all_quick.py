"""`chainrule experiment all --quick` — the command the issue names — with every verdict 'reproduced'."""

import json

from chainrule.cli import main
from chainrule.experiments import names


def test_experiment_all_quick_reproduces_every_claim(tmp_path, capsys):
    code = main(["experiment", "all", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "results.json").read_text())["experiments"]
    assert [r["name"] for r in results] == names()
    not_reproduced = [(r["name"], c["claim"], c["measured"]) for r in results for c in r["claims"]
                      if c["verdict"] != "reproduced"]
    assert not not_reproduced
    assert code == 0 and "claims reproduced" in out
    for r in results:
        assert r["claims"], r["name"]  # an experiment with no claim would prove nothing
        for c in r["claims"]:
            assert set(c) == {"claim", "seed_file", "source", "expected", "measured", "tolerance", "verdict"}
            assert c["source"].startswith("“") and "seed 0" not in c["claim"]
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html and "<table>" in html  # self-contained, figures inlined
    assert (tmp_path / "report.md").is_file()
    assert len(names()) == 13


def test_unknown_experiment_is_one_line(capsys):
    assert main(["experiment", "vanishng"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'vanishing'" in err and err.count("\n") == 1
