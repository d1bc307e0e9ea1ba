"""``chainrule export RUN_DIR --format torch|onnx [-o FILE]``: writes the file, or one error line and status 2."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("safetensors")

import chainrule.export  # noqa: E402
from chainrule import runs  # noqa: E402
from chainrule.cli.main import main  # noqa: E402

TINY = {"seed": 1, "data": {"name": "spiral", "options": {"n_per_class": 20}}, "model": {"hidden": [6]},
        "training": {"epochs": 2, "batch_size": 16, "gradient_check": False}, "output": {"plots": False}}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export-cli") / "run"
    runs.train(TINY, run_dir=out, verbose=0)
    return out


def cli(args, capsys):
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:  # argparse's usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_export_torch_writes_a_script_that_rebuilds_the_run(run_dir, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    target = tmp_path / "net.py"
    code, out, err = cli(["export", run_dir, "--format", "torch", "-o", target], capsys)
    assert code == 0 and err == "" and out == f"wrote {target} (torch)\n"
    namespace = {}
    exec(compile(target.read_text(), str(target), "exec"), namespace)  # our own file, just written
    X = np.random.default_rng(0).normal(size=(5, 2))
    got = namespace["build"]()(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(got, runs.load_run(run_dir).output(X), rtol=0, atol=1e-12)


def test_an_existing_file_needs_force(run_dir, tmp_path, capsys):
    target = tmp_path / "net.py"
    target.write_text("keep me")
    code, _, err = cli(["export", run_dir, "--format", "torch", "-o", target], capsys)
    assert code == 2 and err.count("\n") == 1 and "exists; use --force to overwrite it" in err
    assert target.read_text() == "keep me"
    assert cli(["export", run_dir, "--format", "torch", "-o", target, "--force"], capsys)[0] == 0
    assert "def build()" in target.read_text()


@pytest.mark.parametrize("args, message", [
    (["export", "{tmp}", "--format", "torch", "-o", "{tmp}/m.py"], "is not a chainrule run folder"),
    (["export", "{tmp}/none", "--format", "torch", "-o", "{tmp}/m.py"], "run folder not found"),
    (["export", "{run}", "--format", "torch", "-o", "{tmp}/no/m.py"], "does not exist"),
    (["export", "{run}", "--format", "keras"], "argument --format: invalid choice: 'keras'"),
])
def test_bad_input_is_one_line_and_status_2(run_dir, tmp_path, capsys, args, message):
    args = [a.format(tmp=tmp_path, run=run_dir) for a in args]
    code, _, err = cli(args, capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith("chainrule: error: ") and message in err, err


def test_a_format_whose_exporter_is_missing_is_one_line(run_dir, tmp_path, capsys, monkeypatch):
    # (what --format onnx says while chainrule.export.onnx_export does not exist yet)
    monkeypatch.setitem(chainrule.export._WHERE, "to_onnx", "no_such_exporter")
    code, _, err = cli(["export", run_dir, "--format", "onnx", "-o", tmp_path / "m.onnx"], capsys)
    assert (code, err) == (2, "chainrule: error: export --format onnx is not available in this version of "
                              "chainrule\n")
