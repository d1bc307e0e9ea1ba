"""The README's ONNX example runs as written (issue 13 item 4): the first Python block of its
'## ONNX' section, executed in a fresh folder."""

import os
import re
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

README = Path(__file__).resolve().parents[2] / "README.md"


def section_code(title):
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_onnx_example_runs(tmp_path, monkeypatch):
    code = section_code("ONNX")
    assert "to_onnx(" in code and "InferenceSession" in code
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md (ONNX)", "exec"), {})
    assert os.path.getsize(tmp_path / "mlp.onnx") > 0
