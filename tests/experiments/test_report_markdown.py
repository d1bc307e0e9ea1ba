"""report.md: every table row has the header's columns, whatever '|' the cells contain (|Δ| ≤ 0.05)."""

import re

from chainrule.experiments import run
from chainrule.experiments.report import markdown


def tables(text):
    """[(header cells, [row cells, ...])] of every pipe table in a Markdown text, split as GitHub
    Flavored Markdown splits them: at each '|' that is not escaped with a backslash."""
    found, lines = [], text.splitlines()
    for i in range(len(lines) - 1):
        if lines[i].startswith("|") and re.fullmatch(r"\|(-+\|)+", lines[i + 1]):
            rows, j = [], i + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append(cells(lines[j]))
                j += 1
            found.append((cells(lines[i]), rows))
    return found


def cells(line):
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def assert_rectangular(text):
    found = tables(text)
    assert found
    for header, rows in found:
        assert rows
        for row in rows:
            assert len(row) == len(header), (header, row)
    return found


def test_cells_with_bars_stay_in_their_columns():
    results = [{"name": "demo", "title": "bars in cells", "figures": [], "claims": [
        {"claim": "max |a − b| is small", "seed_file": "001", "expected": 0.25, "measured": 0.2500001,
         "tolerance": "|Δ| ≤ 0.05", "verdict": "reproduced"},
        {"claim": "a claim over\ntwo lines", "seed_file": "002", "expected": "|x|", "measured": 3.0,
         "tolerance": "|Δ| ≤ 1e-12·|expected|", "verdict": "not reproduced"}],
        "tables": [{"title": "|g| per layer", "header": ["layer", "|g|"], "rows": [["0", "|1|"], ["2", "3"]]}]}]
    (claims, claim_rows), (table, table_rows) = assert_rectangular(markdown(results))
    assert claims[-1] == "verdict" and [r[-1] for r in claim_rows] == ["✅ reproduced", "❌ not reproduced"]
    assert [r[-2] for r in claim_rows] == ["|Δ| ≤ 0.05", "|Δ| ≤ 1e-12·|expected|"]  # the text survives unescaping
    assert claim_rows[0][0] == "max |a − b| is small" and claim_rows[1][0] == "a claim over two lines"
    assert table == ["layer", "|g|"] and table_rows == [["0", "|1|"], ["2", "3"]]


def test_a_generated_report_parses(tmp_path):
    # A real experiment whose tolerances are all "|Δ| ≤ ..." (check_close).
    run("vanishing", out=tmp_path, quick=True, log=lambda *a: None)
    text = (tmp_path / "report.md").read_text()
    found = assert_rectangular(text)
    header, rows = found[0]
    assert header[-2:] == ["tolerance", "verdict"]
    assert any(r[-2].startswith("|Δ| ≤") for r in rows)
    assert all(r[-1].endswith("reproduced") for r in rows)
