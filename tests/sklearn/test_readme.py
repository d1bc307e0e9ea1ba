"""The README's scikit-learn example runs as written."""

import contextlib
import io
import re
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_readme_sklearn_example_runs():
    section = README.read_text(encoding="utf-8").split("## In scikit-learn", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = io.StringIO()
    namespace = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md (In scikit-learn)", "exec"), namespace)
    assert float(out.getvalue()) > 0.85  # the comment says ≈ 0.90
    assert [W.shape for W in namespace["coefs"]] == [(64, 64), (64, 10)]
