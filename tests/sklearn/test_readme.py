"""The README's scikit-learn examples run as written (every Python block of its section, in order)."""

import contextlib
import io
import re
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_readme_sklearn_examples_run(tmp_path, monkeypatch):
    section = README.read_text(encoding="utf-8").split("## In scikit-learn", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    namespace = {}
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "README.md (In scikit-learn)", "exec"), namespace)
    assert float(out.getvalue()) > 0.85  # the comment says ≈ 0.90
    assert [W.shape for W in namespace["coefs"]] == [(64, 64), (64, 10)]
    pytest.importorskip("onnx")  # (the second block saves and exports)
    pytest.importorskip("safetensors")
    exec(compile(blocks[1], "README.md (In scikit-learn, extras)", "exec"), {})
    assert (tmp_path / "cancer_model" / "estimator.json").is_file() and (tmp_path / "cancer.onnx").is_file()
