"""`chainrule sweep` as a user meets it: one-line errors with exit 2, a run, show, export, and
Ctrl-C (SIGINT to the command) followed by --resume."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def chainrule(*args, timeout=120):
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)


def write_spec(path, space, epochs=3, extra=""):
    path.write_text(f"""seeds = 2
metric = "val_loss"
{extra}
[base]
data = {{ name = "moons", val_fraction = 0.25, options = {{ seed = 0, n = 200 }} }}
model = {{ hidden = [8] }}
training = {{ epochs = {epochs}, batch_size = 16 }}
output = {{ record = false }}

[space]
{space}
""")
    return path


def one_line_error(result):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: "), result.stderr
    return lines[0]


def test_unknown_key_is_one_line_naming_the_closest(tmp_path):
    spec = write_spec(tmp_path / "s.toml", '"model.hiden" = [[4], [8]]')
    assert "did you mean 'model.hidden'" in one_line_error(chainrule("sweep", spec, "--out", tmp_path / "o"))
    assert not (tmp_path / "o").exists()  # checked before anything was made


def test_empty_space_is_one_line(tmp_path):
    spec = write_spec(tmp_path / "s.toml", "")
    assert "[space] is empty" in one_line_error(chainrule("sweep", spec))
    spec = write_spec(tmp_path / "s.toml", '"optimizer.learning_rate" = { low = 0.1, high = 0.01 }')
    assert "the range is empty" in one_line_error(chainrule("sweep", spec))


def test_unreachable_scheduler_fails_fast_naming_it(tmp_path):
    spec = write_spec(tmp_path / "s.toml", '"model.hidden" = [[4]]')
    start = time.monotonic()
    line = one_line_error(chainrule("sweep", spec, "--out", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9"))
    assert "tcp://127.0.0.1:9" in line and "dask scheduler" in line
    assert not (tmp_path / "o").exists()  # no half-made sweep folder left behind
    assert time.monotonic() - start < 60  # fails within the connect timeout (5 s) plus start-up, never hangs


def test_sweep_show_and_export(tmp_path):
    spec = write_spec(tmp_path / "s.toml", '"optimizer.learning_rate" = [0.003, 0.03]')
    done = chainrule("sweep", spec, "--out", tmp_path / "o", "--workers", "2", "--quiet", "--export", "csv")
    assert done.returncode == 0, done.stderr
    assert "best.toml" in done.stdout and (tmp_path / "o" / "trials.csv").read_text().count("\n") == 1 + 4
    shown = chainrule("sweep", "show", tmp_path / "o")
    assert shown.returncode == 0 and "4 trials" in shown.stdout and "optimizer.learning_rate" in shown.stdout
    trained = chainrule("train", tmp_path / "o" / "best.toml", "--out", tmp_path / "run", "--quiet")
    assert trained.returncode == 0, trained.stderr  # best.toml is a config `chainrule train` takes


def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path):
    # 12 configurations × 2 seeds of ~0.3 s each: long enough to interrupt in the middle
    spec = write_spec(tmp_path / "s.toml", '"optimizer.learning_rate" = { low = 0.001, high = 0.1, log = true, '
                                            'num = 6 }\n"model.hidden" = [[8], [12]]', epochs=120)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "chainrule", "sweep", str(spec), "--out", str(out), "--workers",
                             "2", "--quiet"], env={**os.environ, "PYTHONPATH": SRC}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _stored(out) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole process group, workers too
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    stored = _stored(out)
    assert 2 <= stored < 24  # stopped in the middle
    with sqlite3.connect(out / "results.sqlite") as db:  # whole configurations only
        counts = [n for (n,) in db.execute("SELECT COUNT(*) FROM trials GROUP BY config_hash")]
    assert set(counts) == {2}
    resumed = chainrule("sweep", "--resume", out, "--workers", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    with sqlite3.connect(out / "results.sqlite") as db:
        keys = [k for (k,) in db.execute("SELECT key FROM trials")]
    assert len(keys) == 24 and len(set(keys)) == 24
    assert json.loads((out / "sweep.json").read_text())["seeds"] == 2


def _stored(folder):
    path = folder / "results.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0
