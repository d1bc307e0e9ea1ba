"""The README's PyTorch example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_pytorch_example_runs(capsys):
    section = README.read_text(encoding="utf-8").split("\n## PyTorch\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md (PyTorch)", "exec"), namespace)
    assert float(capsys.readouterr().out) < 1e-12
    back, model = namespace["back"], namespace["model"]
    assert back.config() == model.config()
