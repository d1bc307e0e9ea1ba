"""Ctrl-C during `chainrule train`: the step finishes, a checkpoint is written and named, the
manifest says "interrupted", and `--resume` ends bit-identical to a run never interrupted."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.saving import load_weights

pytest.importorskip("safetensors")

CONFIG = """
seed = 1
[data]
name = "moons"
options = { n = 400, noise = 0.2 }
[model]
hidden = [16, 16]
dropout = 0.1
[training]
epochs = 400
batch_size = 16
gradient_check = false
[output]
plots = false
"""


def test_ctrl_c_checkpoints_and_resume_is_exact(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    run = tmp_path / "run"
    # no checkpoint interval is configured: without the interrupt handler nothing would be saved
    proc = subprocess.Popen([sys.executable, "-m", "chainrule.cli.main", "train", str(cfg), "--out", str(run),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (run / "metrics.csv").is_file() or (run / "metrics.csv").stat().st_size < 300:
        assert proc.poll() is None and time.monotonic() < deadline, "training did not start"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    checkpoints = sorted((run / "checkpoints").glob("ckpt-*"))
    assert len(checkpoints) == 1
    assert f"checkpoint written to {checkpoints[0]}" in err and "--resume" in err
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["step"] > 0

    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert json.loads((run / "manifest.json").read_text())["status"] == "finished"
    whole = tmp_path / "whole"
    assert main(["train", str(cfg), "--out", str(whole), "--quiet"]) == 0
    resumed, reference = load_weights(run / "model" / "model.safetensors"), \
        load_weights(whole / "model" / "model.safetensors")
    assert resumed.keys() == reference.keys()
    for k in reference:
        np.testing.assert_array_equal(resumed[k], reference[k])
