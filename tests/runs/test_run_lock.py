"""One writer per run folder (issue 12, cause 3): a second `chainrule train` on a folder being
trained fails at once with exit 2 and the holder's pid, touching nothing; a resume repairs a
damaged metrics.csv; a file where the run writes a folder fails before training."""

import os
import subprocess
import sys
import time

import pytest

from chainrule import runs
from chainrule.cli.main import main
from chainrule.errors import RunLockedError
from chainrule.runs import lock
from chainrule.runs.lock import RunLock

pytest.importorskip("safetensors")
pytestmark = pytest.mark.skipif(lock.fcntl is None, reason="no fcntl on this platform")

CFG = {"seed": 0, "data": {"name": "moons"}, "model": {"hidden": [8]},
       "training": {"epochs": 3, "checkpoint_every": 1, "gradient_check": False}, "output": {"plots": False}}


def _command(*args):
    return [sys.executable, "-c", "import sys; from chainrule.cli.main import main; sys.exit(main(sys.argv[1:]))",
            *map(str, args)]


def _snapshot(folder):
    """Every path under ``folder`` with its size and modification time (ns)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def run(tmp_path):
    runs.train(CFG, run_dir=tmp_path / "run", verbose=0)
    return tmp_path / "run"


def test_second_writer_fails_fast_while_the_first_trains(run):
    # The first process extends the run to 12 epochs, each checkpoint write slowed to 0.5 s (the
    # test hook), so it trains for ~4.5 s; the second starts once the first has written its first
    # new checkpoint (step 20), i.e. while it is training.
    env = {**os.environ, "CHAINRULE_TEST_CHECKPOINT_DELAY": "0.5"}
    first = subprocess.Popen(_command("train", "--resume", run, "--epochs", 12, "--quiet"), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (run / "checkpoints" / "ckpt-000000020").exists():
            assert first.poll() is None and time.monotonic() < deadline, "the first process did not train"
            time.sleep(0.02)
        t0 = time.monotonic()
        second = subprocess.run(_command("train", "--resume", run, "--quiet"), capture_output=True, text=True,
                                timeout=60)
        seconds = time.monotonic() - t0
        first_was_training = first.poll() is None
    finally:
        _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err  # (without the lock: a raw [Errno 2], or the second's error)
    assert second.returncode == 2, second.stderr
    assert first_was_training, "the first process ended before the second was refused: the test proves nothing"
    assert second.stderr.strip() == (f"chainrule: error: {run} is being trained by process {first.pid}; wait for it "
                                     "to finish (or stop it) before training in this folder")
    assert seconds < 10  # an interpreter start and an import; never a training run
    # The folder is the first's, whole: 12 epochs in config, metrics and manifest, and it loads.
    lines = (run / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,step,") and [ln.split(",")[0] for ln in lines[1:]] == [str(e) for e in
                                                                                           range(1, 13)]
    loaded = runs.load_run(run)
    assert loaded.config["training"]["epochs"] == 12
    assert not (run / ".lock").exists()


def test_a_locked_folder_is_not_touched(run, capsys):
    before = _snapshot(run)
    with RunLock(run):
        assert (run / ".lock").read_text().strip() == str(os.getpid())
        with pytest.raises(RunLockedError, match=f"is being trained by process {os.getpid()}"):
            runs.train(runs.load_run(run).config, run_dir=run, resume=True, verbose=0)
        code = main(["train", "--resume", str(run), "--quiet"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.count("\n") == 0 and f"by process {os.getpid()}" in err, err
        # a new run with --out the same folder is refused in the same way
        code = main(["train", str(_toml(run.parent)), "--out", str(run), "--quiet"])
        assert code == 2 and f"by process {os.getpid()}" in capsys.readouterr().err
        assert {k: v for k, v in _snapshot(run).items() if k != ".lock"} == before
    assert not (run / ".lock").exists()  # released and removed


def _toml(folder):
    path = folder / "c.toml"
    path.write_text('[data]\nname = "moons"\n[training]\nepochs = 1\n[output]\nplots = false\n')
    return path


def test_a_killed_holder_leaves_a_lock_that_does_not_block(run):
    # A process that takes the lock and is killed leaves .lock (with its pid) behind; the kernel
    # dropped the lock, so the next run takes it.
    p = subprocess.Popen([sys.executable, "-c", "import sys, time; from chainrule.runs.lock import RunLock; "
                          f"RunLock({str(run)!r}).__enter__(); print('locked', flush=True); time.sleep(60)"],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    with pytest.raises(RunLockedError, match=f"process {p.pid}"):
        RunLock(run).__enter__()
    p.kill()
    p.wait()
    assert (run / ".lock").read_text().strip() == str(p.pid)
    with RunLock(run):
        assert (run / ".lock").read_text().strip() == str(os.getpid())


def test_without_fcntl_a_run_goes_on_unlocked(run, monkeypatch):
    monkeypatch.setattr(lock, "fcntl", None)
    with RunLock(run), RunLock(run):  # no lock to contend for, and no crash
        pass
    runs.train(runs.load_run(run).config, run_dir=run, resume=True, verbose=0)
    assert not (run / ".lock").exists()


def test_resume_repairs_a_damaged_metrics_file(run):
    good = (run / "metrics.csv").read_bytes()
    lines = good.splitlines(keepends=True)
    assert len(lines) == 4
    # what two writers left: a row cut short and another's row run into it, a foreign row, no last row
    damaged = lines[0] + lines[1] + lines[2][:25] + lines[2] + b"2,10,0.5\r\n" + lines[1]
    (run / "metrics.csv").write_bytes(damaged)
    runs.train(runs.load_run(run).config, run_dir=run, resume=True, verbose=0)
    assert (run / "metrics.csv").read_bytes() == good


def test_resume_when_checkpoints_is_a_file_fails_before_training(run, capsys):
    import shutil

    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").write_text("not a folder")
    (run / "manifest.json").write_text((run / "manifest.json").read_text().replace('"finished"', '"running"'))
    before = _snapshot(run)
    t0 = time.monotonic()
    code = main(["train", "--resume", str(run), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == (f"chainrule: error: run folder {run}: checkpoints is a file, but the run writes a "
                                 "folder there; move it away"), err
    assert time.monotonic() - t0 < 5
    assert _snapshot(run) == before  # nothing trained, nothing written
