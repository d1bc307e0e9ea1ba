"""A forged model folder costs no time and never blocks (issue 12 review, item 6): sizes are
checked before anything is hashed, and a FIFO, folder or device in place of model.json or
model.safetensors is named for what it is, without opening it in blocking mode."""

import os
import subprocess
import sys
import time

import pytest

from chainrule import nn
from chainrule.errors import ConfigError, WeightsFileError
from chainrule.saving import checksums, load_model, save_model

pytest.importorskip("safetensors")

GIB = 1 << 30


@pytest.fixture
def saved(tmp_path):
    model = nn.MLP([3, 4, 2])
    model.init(seed=0)
    return save_model(model, tmp_path / "m")


@pytest.fixture
def no_hashing(monkeypatch):
    """Fail the test if any file is hashed (a 3 GB sparse file hashes in ~10 s)."""
    def refuse(path):
        raise AssertionError(f"{path} was hashed")
    monkeypatch.setattr(checksums, "sha256_of", refuse)


def test_a_huge_model_json_is_refused_before_it_is_hashed(saved, no_hashing):
    os.truncate(saved / "model.json", 3 * GIB)  # sparse: no disk used
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"model file .*model.json is 3221225472 bytes, more than the 67108864"):
        load_model(saved)
    assert time.perf_counter() - t0 < 1.0


def test_a_padded_weights_file_is_refused_before_it_is_hashed(saved, no_hashing, monkeypatch):
    # model.json itself is read once and its bytes hashed in memory (not through sha256_of)
    os.truncate(saved / "model.safetensors", 3 * GIB)
    t0 = time.perf_counter()
    with pytest.raises(WeightsFileError, match=r"describes \d+ bytes of tensor data but the file holds \d+"):
        load_model(saved)
    assert time.perf_counter() - t0 < 1.0


def test_a_changed_model_json_still_fails_its_checksum(saved):
    text = (saved / "model.json").read_text()
    (saved / "model.json").write_text(text.replace('"format_version": 1', '"format_version":  1'))
    with pytest.raises(WeightsFileError, match=r"model.json does not match its checksum"):
        load_model(saved)


@pytest.mark.parametrize("name", ["model.json", "model.safetensors"])
@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_a_non_file_is_named_for_what_it_is(saved, name, kind):
    path = saved / name
    path.unlink()
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(path)
        expected = "is a FIFO"
    elif kind == "folder":
        path.mkdir()
        expected = "is a directory"
    else:
        if not os.path.exists("/dev/zero"):
            pytest.skip("no /dev/zero here")
        path.symlink_to("/dev/zero")
        expected = "is a character device"
    # in a child process with a timeout: a blocking open of a FIFO would hang forever
    code = ("import sys\nfrom chainrule.saving import load_model\n"
            "try:\n    load_model(sys.argv[1])\nexcept ValueError as e:\n    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(saved)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    line = out.stdout.strip()
    assert expected in line and name in line and "not found" not in line, line
    assert line.startswith("ConfigError" if name == "model.json" else "WeightsFileError"), line
