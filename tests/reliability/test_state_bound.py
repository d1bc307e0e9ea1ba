"""A checkpoint's state.json is bounded by what the model's state can hold at its step (issue 12,
cause 8): a forged huge one, checksums and all, is refused before it is hashed or parsed; real
states, recorder and history included, stay far below the bound."""

import hashlib
import json
import time

import pytest

from chainrule import runs
from chainrule.errors import CheckpointError
from chainrule.train import checkpoint_files
from chainrule.train.checkpoint_files import (
    CHECKSUMS,
    STATE,
    list_checkpoints,
    read_checkpoint,
    state_bytes_bound,
    step_of,
)

pytest.importorskip("safetensors")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    # 15 steps with the training recorder writing a record at every one: the state grows fastest
    cfg = {"seed": 0, "data": {"name": "moons"}, "model": {"hidden": [8]},
           "training": {"epochs": 3, "checkpoint_every": 1, "gradient_check": False}, "output": {"plots": False}}
    trainer, run_dir, _ = runs.train(cfg, run_dir=tmp_path_factory.mktemp("r") / "run", verbose=0)
    return trainer, run_dir


def test_real_states_are_far_below_the_bound(run):
    trainer, run_dir = run
    n_arrays = len(trainer.tensor_spec())
    for path in list_checkpoints(run_dir / "checkpoints"):
        size = (path / STATE).stat().st_size
        # measured: < 1 % of the bound; a tenth leaves room for states ten times richer
        assert size < state_bytes_bound(n_arrays, step_of(path)) / 10, (path, size)
        read_checkpoint(path, trainer)


def test_a_forged_huge_state_is_refused_before_it_is_read(run, monkeypatch):
    trainer, run_dir = run
    path = list_checkpoints(run_dir / "checkpoints")[-1]
    state = json.loads((path / STATE).read_text())
    state["history"]["loss"] += [0.5] * 4_000_000  # ~20 MB of well-formed JSON, as the review forged (286 MB)
    text = json.dumps(state).encode()
    forged = run_dir.parent / "forged" / path.name
    forged.mkdir(parents=True)
    for name in ("tensors.safetensors",):
        (forged / name).write_bytes((path / name).read_bytes())
    (forged / STATE).write_bytes(text)
    sums = json.loads((path / CHECKSUMS).read_text())
    sums["sha256"][STATE] = hashlib.sha256(text).hexdigest()  # a consistent forgery
    (forged / CHECKSUMS).write_text(json.dumps(sums))
    hashed = []
    real_sha256 = checkpoint_files.sha256_of
    monkeypatch.setattr(checkpoint_files, "sha256_of", lambda p: hashed.append(p.name) or real_sha256(p))
    for trainer_given in (trainer, None):  # (without a trainer, the tensors' header counts the arrays)
        hashed.clear()
        t0 = time.perf_counter()
        with pytest.raises(CheckpointError, match=rf"state.json is {len(text)} bytes, more than this checkpoint's "
                                                  rf"can be \(\d+\)"):
            read_checkpoint(forged, trainer_given)
        assert STATE not in hashed and time.perf_counter() - t0 < 0.5


def test_a_state_of_another_step_than_its_folder_is_refused(run):
    trainer, run_dir = run
    path = list_checkpoints(run_dir / "checkpoints")[-1]
    forged = run_dir.parent / "renamed" / f"ckpt-{step_of(path) + 100:09d}"
    forged.parent.mkdir()
    import shutil

    shutil.copytree(path, forged)
    with pytest.raises(CheckpointError, match=rf"is of step {step_of(path)}, but its folder is {forged.name}"):
        read_checkpoint(forged, trainer)
