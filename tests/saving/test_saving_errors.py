"""Loading bad files gives one clear line (a ChainruleError), never a traceback from deep inside."""

import io
import json
import struct
import tokenize
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.errors import ChainruleError, ConfigError
from chainrule.saving import load_model, save_model
from chainrule.saving.checksums import write_checksums
from chainrule.saving.weights import WeightsFileError


@pytest.fixture
def saved(tmp_path):
    pytest.importorskip("safetensors")
    model = nn.MLP([3, 4, 2], activation="relu", batchnorm=True)
    model.init(seed=0)
    save_model(model, tmp_path / "m")
    return tmp_path / "m"


def load_error(directory, kind=ChainruleError):
    """The error load_model raises: of the expected kind, a ValueError, one line.

    The files the tests damaged are sealed again first (checksums.json rewritten, as a forger
    would): these tests are about the checks behind the checksums."""
    if (directory / "checksums.json").is_file():
        write_checksums(directory, [p.name for p in directory.iterdir() if p.name.startswith("model.")])
    with pytest.raises(kind) as err:
        load_model(directory)
    assert isinstance(err.value, ValueError)
    msg = str(err.value)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


def safetensors_bytes(header):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw


def test_missing_folder(tmp_path):
    msg = load_error(tmp_path / "nowhere", ConfigError)
    assert "no saved model in" in msg and "nowhere" in msg and "model.json not found" in msg


def test_missing_weights_file(saved):
    (saved / "model.safetensors").unlink()
    msg = load_error(saved, WeightsFileError)
    assert "weights file not found" in msg and "model.safetensors" in msg


@pytest.mark.parametrize(
    "content, expected",
    [(b"", "header too small"), (b"\x00" * 3, "header too small"), (b"PK\x03\x04 a zip, not safetensors", "header"),
     (safetensors_bytes({"0.weight": {"dtype": "F64", "shape": [4, 3], "data_offsets": [0, 96]}}),
      "")],  # a valid header whose data is missing (truncated after the header)
    ids=["empty", "tiny", "garbage", "header-only"],
)
def test_corrupted_weights_file(saved, content, expected):
    (saved / "model.safetensors").write_bytes(content)
    msg = load_error(saved, WeightsFileError)
    assert "is not a valid safetensors file" in msg and expected in msg


def test_truncated_weights_file(saved):
    data = (saved / "model.safetensors").read_bytes()
    (saved / "model.safetensors").write_bytes(data[: len(data) - 7])
    msg = load_error(saved, WeightsFileError)
    assert "model.safetensors is not a valid safetensors file" in msg


def test_tensor_with_the_wrong_shape(saved, tmp_path):
    other = nn.MLP([3, 5, 2], activation="relu", batchnorm=True)
    other.init(seed=0)
    save_model(other, tmp_path / "other")
    (saved / "model.safetensors").write_bytes((tmp_path / "other" / "model.safetensors").read_bytes())
    msg = load_error(saved, WeightsFileError)
    assert "tensor '0.weight' has shape (5, 3) and dtype float64, but the model expects shape (4, 3)" in msg


def test_tensor_with_the_wrong_dtype(saved, tmp_path):
    other = nn.MLP([3, 4, 2], activation="relu", batchnorm=True)
    other.init(seed=0, dtype="float32")
    save_model(other, tmp_path / "other")
    (saved / "model.safetensors").write_bytes((tmp_path / "other" / "model.safetensors").read_bytes())
    assert "dtype float32, but the model expects shape (4, 3) and dtype float64" in load_error(saved)


def test_missing_and_unexpected_tensors(saved, tmp_path):
    other = nn.MLP([3, 4, 2], activation="relu")  # no BatchNorm: different names
    other.init(seed=0)
    save_model(other, tmp_path / "other")
    (saved / "model.safetensors").write_bytes((tmp_path / "other" / "model.safetensors").read_bytes())
    msg = load_error(saved, WeightsFileError)
    assert "does not fit the model: missing ['1.weight', '1.bias', '3.weight'" in msg
    assert "unexpected ['2.bias', '2.weight']" in msg


@pytest.mark.parametrize("shape", [[10**6, 10**6], [2**40, 2**40], [4, 3, 10**12]])
def test_header_declaring_a_huge_shape(saved, shape):
    # A hand-made header promising a ~10¹²-element tensor (8 TB) must be rejected from the
    # header alone, without allocating or reading anything of that size.
    header = {"0.weight": {"dtype": "F64", "shape": shape, "data_offsets": [0, 8 * int(np.prod(shape, dtype=object))]}}
    (saved / "model.safetensors").write_bytes(safetensors_bytes(header) + b"\0" * 96)
    msg = load_error(saved, WeightsFileError)
    assert "model.safetensors" in msg


def test_huge_shape_with_matching_offsets_is_checked_against_the_model(saved, tmp_path):
    # Header and data agree (a 1-element tensor declared as (1, 1)): rejected by the shape check
    # before any tensor data is read.
    header = {"0.weight": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0, 8]}}
    (saved / "model.safetensors").write_bytes(safetensors_bytes(header) + b"\0" * 8)
    assert "does not fit the model" in load_error(saved, WeightsFileError)


def test_nan_in_weights(saved):
    from safetensors.numpy import load_file, save_file

    state = load_file(str(saved / "model.safetensors"))
    state["0.weight"][0, 0] = np.nan
    save_file(state, str(saved / "model.safetensors"))
    assert "tensor '0.weight' contains NaN or inf" in load_error(saved, WeightsFileError)


@pytest.mark.parametrize(
    "text, expected",
    [("{not json", "is not valid JSON"),
     (b"\xff\xfe\x00garbage", "is not valid JSON"),
     ("[1, 2, 3]", "is not a chainrule model file (expected format 'chainrule-model')"),
     ('{"format": "keras"}', "is not a chainrule model file"),
     ('{"format": "chainrule-model", "format_version": 99, "architecture": {}}', "format version 99, newer"),
     ('{"format": "chainrule-model", "format_version": "1"}', "format_version must be an integer"),
     ('{"format": "chainrule-model", "format_version": 1}', "has no 'architecture' object"),
     ('{"format": "chainrule-model", "format_version": 1, "dtype": "int8", "architecture": {"type": "sequential"}}',
      "dtype must be 'float32' or 'float64', found 'int8'"),
     ('{"format": "chainrule-model", "format_version": 1, "architecture": {"type": "transformer"}}',
      "unknown layer type 'transformer'"),
     ('{"format": "chainrule-model", "format_version": 1, "architecture": {"type": "sequential"}}',
      "missing the key 'layers'"),
     ('{"format": "chainrule-model", "format_version": 1, "architecture": '
      '{"type": "sequential", "layers": [{"type": "dense", "d_in": "three", "d_out": 2}]}}',
      "Dense(d_in=...): expected an int in [1, inf), got 'three'"),
     ('{"format": "chainrule-model", "format_version": 1, "architecture": '
      '{"type": "sequential", "layers": [{"type": "dense", "d_in": 3, "d_out": 4}, {"type": "dense", "d_in": 5, '
      '"d_out": 2}]}}', "expects 5 features but the layer before produces 4"),
     ('{"format": "chainrule-model", "format_version": 1, "architecture": {"type": "dense", "d_in": 3, "d_out": 4}}',
      "must be a network"),
     ],
    ids=["not-json", "not-utf8", "list", "other-format", "newer", "version-str", "no-architecture", "bad-dtype",
         "unknown-layer", "no-layers", "bad-width", "width-mismatch", "single-layer"],
)
def test_bad_model_json(saved, text, expected):
    path = saved / "model.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    msg = load_error(saved, ConfigError)
    assert expected in msg, msg


def test_no_pickle_in_the_source_tree():
    # Saving must never execute code on load. Scan every source file's *code* (comments and
    # strings stripped by the tokenizer, so a docstring explaining why we avoid pickle is fine)
    # for pickle and its relatives (np.load's allow_pickle, torch.load, marshal, shelve, dill, joblib).
    src = Path(chainrule.__file__).parent
    forbidden = {"pickle", "cPickle", "_pickle", "allow_pickle", "marshal", "shelve", "dill", "joblib", "cloudpickle"}
    files = sorted(src.rglob("*.py"))
    assert len(files) > 20
    found = []
    for path in files:
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        for tok in tokens:
            if tok.type == tokenize.NAME and (tok.string in forbidden or "pickle" in tok.string.lower()):
                found.append(f"{path.relative_to(src)}:{tok.start[0]}: {tok.string}")
            if tok.type == tokenize.NAME and tok.string == "load" and tok.line.strip().startswith("torch"):
                found.append(f"{path.relative_to(src)}:{tok.start[0]}: torch.load")
    assert not found, found
    # And no stray pickle files shipped with the package.
    assert not [p for p in src.rglob("*") if p.suffix in (".pkl", ".pickle", ".npy", ".npz", ".pt", ".pth")]


def test_pickle_scan_can_fail(tmp_path):
    # The scan above would catch `import pickle` (and not a mere mention in a string).
    code = 'import pickle\ns = "pickle in a string"\n'
    names = [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.NAME]
    assert names == ["import", "pickle", "s"]
