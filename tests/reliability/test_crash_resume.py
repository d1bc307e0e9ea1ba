"""The crash test: real training processes are SIGKILLed at random moments — during start-up,
between steps, in the middle of writing a checkpoint — and resumed each time with
``chainrule train --resume RUN`` until the run finishes. The final weights (and every logged
metric) must equal those of an uninterrupted run bit for bit.

A kill can land anywhere; three kinds are drawn so that each happens in every run of the test:
(a) at a uniformly random moment after the start, which may be before any progress;
(b) a random 0–60 ms after the process has written a new checkpoint (so the run progresses);
(c) the moment a checkpoint's temporary folder appears, i.e. mid-write (the test-only
    CHAINRULE_TEST_CHECKPOINT_DELAY holds each checkpoint 10 ms between its temporary folder
    and the rename, to make that window wide enough to hit).
"""

import csv
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.saving import load_weights

pytest.importorskip("safetensors")

TARGET_KILLS = 22  # the issue asks for ≥ 20 SIGKILL/resume cycles
CONFIG = """
seed = 3
[data]
name = "moons"
options = {{ n = 400, noise = 0.2 }}
[model]
hidden = [16, 16]
activation = "tanh"
dropout = 0.1
[optimizer]
name = "adam"
learning_rate = 0.01
[schedule]
name = "cosine"
total_steps = 400
[training]
epochs = {epochs}
batch_size = 16
early_stopping = 50
checkpoint_every = 1
checkpoint_every_steps = 6
checkpoint_keep = 2
gradient_check = false
[output]
plots = false
"""


def _command(args):
    return [sys.executable, "-m", "chainrule.cli.main", *map(str, args)]


def _newest_step(run):
    folder = run / "checkpoints"
    try:
        names = [p.name for p in folder.iterdir() if p.name.startswith("ckpt-")]
    except FileNotFoundError:
        return -1
    return max((int(n[5:]) for n in names), default=-1)


def _writing(run):
    try:
        return any(p.name.startswith(".tmp-ckpt-") for p in (run / "checkpoints").iterdir())
    except FileNotFoundError:
        return False


def _metrics(run):
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: v for k, v in row.items() if k != "time"} for row in rows]  # wall-clock time differs


def _wait_until(proc, condition, timeout=20.0):
    end = time.monotonic() + timeout
    while proc.poll() is None and not condition() and time.monotonic() < end:
        time.sleep(0.002)


def test_sigkill_at_random_moments_then_resume_gives_bit_identical_weights(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(CONFIG.format(epochs=14))
    env = {**os.environ, "CHAINRULE_TEST_CHECKPOINT_DELAY": "0.01", "PYTHONWARNINGS": "ignore"}

    # The uninterrupted run: in this process, and without checkpoints, so the comparison also
    # shows that writing checkpoints changes nothing and that processes agree.
    plain = tmp_path / "plain.toml"
    plain.write_text(CONFIG.format(epochs=14).replace("checkpoint_every = 1", "checkpoint_every = 0")
                     .replace("checkpoint_every_steps = 6", "checkpoint_every_steps = 0"))
    reference = tmp_path / "reference"
    assert main(["train", str(plain), "--out", str(reference), "--quiet"]) == 0
    expected = load_weights(reference / "model" / "model.safetensors")
    expected_metrics = _metrics(reference)

    rng = random.Random(20240611)
    kills = {"random": 0, "after progress": 0, "mid-write": 0}
    caught_writing = 0  # kills after which a half-written checkpoint folder was left behind
    chains, processes, t0 = 0, 0, time.monotonic()
    while sum(kills.values()) < TARGET_KILLS:
        chains += 1
        run = tmp_path / f"run{chains}"
        while True:  # one run, killed and resumed until it finishes
            fresh = not (run / "config.json").exists()
            args = ["train", config, "--out", run, "--quiet"] if fresh else ["train", "--resume", run, "--quiet"]
            before = _newest_step(run)
            p = subprocess.Popen(_command(args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            processes += 1
            if sum(kills.values()) < TARGET_KILLS:
                kind = rng.choice(["random", "after progress", "after progress", "mid-write"])
                if kind == "random":
                    time.sleep(rng.uniform(0.0, 1.3))
                elif kind == "after progress":
                    _wait_until(p, lambda run=run, before=before: _newest_step(run) > before)
                    time.sleep(rng.uniform(0.0, 0.06))
                else:
                    _wait_until(p, lambda run=run: _writing(run))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                    kills[kind] += 1
                    caught_writing += _writing(run)
                    continue
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err.decode()
            break
        got = load_weights(run / "model" / "model.safetensors")
        assert sorted(got) == sorted(expected)
        for k in expected:
            assert got[k].tobytes() == expected[k].tobytes(), f"chain {chains}: {k} differs after resuming"
        assert _metrics(run) == expected_metrics  # every epoch's loss and accuracies, too
        assert not [q for q in (run / "checkpoints").iterdir() if q.name.startswith(".")]  # no partial writes left
    total = sum(kills.values())
    print(f"\ncrash test: {total} SIGKILL/resume cycles ({kills}; {caught_writing} left a half-written "
          f"checkpoint behind) over {chains} run(s) and {processes} processes in {time.monotonic() - t0:.1f} s; "
          "final weights bit-identical to the uninterrupted run: yes")
    assert total >= 20 and kills["mid-write"] >= 1 and caught_writing >= 1
    assert np.all([np.isfinite(v).all() for v in expected.values()])
