"""CSV loading is bounded (issue 12, causes 6 and 7): regular files only, size and line caps,
a streaming read whose memory follows the data, a fast ragged-row error, a linear header check."""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from chainrule.data import load_csv
from chainrule.errors import ChainruleError, DataError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "is a FIFO"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.symlink_to("/dev/zero"), "is a character device"),
])
def test_only_regular_files(tmp_path, make, kind):
    path = tmp_path / "data.csv"
    make(path)
    start = time.perf_counter()
    with pytest.raises(DataError, match=kind):
        load_csv(path, label="y")
    assert time.perf_counter() - start < 5  # a FIFO must not block


def test_size_cap_is_raisable(tmp_path):
    path = write(tmp_path, "a,y\n" + "1,0\n2,1\n" * 50)
    with pytest.raises(DataError, match=r"is \d+ bytes, more than the 100 allowed \(raise \[limits\] csv_mb in the "
                                        r"config, or load_csv's max_bytes="):
        load_csv(path, label="y", max_bytes=100)
    X, _, _ = load_csv(path, label="y", max_bytes=10_000)
    assert X.shape == (100, 1)


def test_line_cap_is_raisable(tmp_path):
    path = write(tmp_path, "a,y\n" + "0" * 500 + "1.5,0\n")
    with pytest.raises(DataError, match=r"line 2 is longer than 100 characters \(raise \[limits\] csv_line_mb"):
        load_csv(path, label="y", max_line=100)
    X, _, _ = load_csv(path, label="y", max_line=1000)
    assert X[0, 0] == 1.5


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_caps_must_be_positive_integers(tmp_path, bad):
    with pytest.raises(ChainruleError, match=r"load_csv\(max_bytes\): expected an int in \[1, inf\)"):
        load_csv(write(tmp_path, "a,y\n1,0\n"), label="y", max_bytes=bad)


def test_rows_and_labels_as_before(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2, cat\n\n3,4,dog \n,,\n5,6,cat\n")
    X, y, meta = load_csv(path, label="y")
    assert X.tolist() == [[1, 2], [3, 4], [5, 6]] and y.tolist() == [0, 1, 0]
    assert meta["classes"] == ["cat", "dog"] and meta["rows"].tolist() == [2, 4, 6]


def test_many_distinct_numeric_targets_are_regression(tmp_path):
    n = 3000
    path = write(tmp_path, "a,t\n" + "".join(f"{i},{i * 0.5}\n" for i in range(n)))
    X, y, meta = load_csv(path, label="t")
    assert meta["task"] == "regression" and y.shape == (n, 1) and y[-1, 0] == (n - 1) * 0.5


def test_header_duplicate_check_is_linear(tmp_path):
    columns = 100_000
    path = write(tmp_path, ",".join(f"c{j}" for j in range(columns)) + "\n" + ",".join(["1"] * columns) + "\n")
    start = time.perf_counter()
    X, _, _ = load_csv(path, label=None)
    assert X.shape == (1, columns)
    assert time.perf_counter() - start < 5  # was > 40 s with a quadratic check; ~0.2 s here
    dup = write(tmp_path, ",".join(f"c{j}" for j in range(columns)) + ",c7\n" + ",".join(["1"] * (columns + 1)),
                "dup.csv")
    with pytest.raises(DataError, match=rf"names column 'c7' twice \(columns 8 and {columns + 1}\)"):
        load_csv(dup, label=None)


def big_csv(path, rows, ragged_last=True):
    line = "0.12345678,-1.2345678,2.3456789,0.5,1\n"
    with open(path, "w") as f:
        f.write("a,b,c,d,y\n")
        f.write(line * rows)
        if ragged_last:
            f.write("1,2\n")
    return path


def test_ragged_last_row_of_a_big_csv_arrives_fast(tmp_path):
    path = big_csv(tmp_path / "big.csv", 1_000_000)  # 38 MB
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"row 1000002 has 2 fields but the header has 5"):
        load_csv(path, label="y")
    assert time.perf_counter() - start < 10  # the shape pass only: ~1 s here, not the numbers


RLIMIT_SCRIPT = """
import resource, sys
limit = {limit}
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from chainrule.data import load_csv
X, y, meta = load_csv(sys.argv[1], label="y")
print(X.shape, X.dtype)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_memory_follows_the_data_not_the_text(tmp_path):
    """600,000 rows × 4 floats are 19 MB as float64 (a 23 MB file). Under a 320 MiB address
    space limit (Python and NumPy alone take ~150 MiB of it) the streaming loader reads them (it
    passes at 240 MiB); the old loader, which kept every cell as a Python string, fails (at
    320 MiB and at 280 MiB with half the rows: ~170 MB more for 300,000 rows)."""
    path = big_csv(tmp_path / "mid.csv", 600_000, ragged_last=False)
    script = textwrap.dedent(RLIMIT_SCRIPT.format(limit=320 << 20))
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-500:]
    assert "(600000, 4) float64" in result.stdout


def test_non_finite_and_non_numeric_cells_still_name_row_and_column(tmp_path):
    with pytest.raises(DataError, match=r"row 3, column 'b': '1e999' is not a finite number"):
        load_csv(write(tmp_path, "a,b,y\n1,2,0\n3,1e999,1\n"), label="y")
    # an overflowing row sum of finite values is not an error
    X, _, _ = load_csv(write(tmp_path, "a,b,y\n1e308,1e308,0\n1,2,1\n"), label="y")
    assert np.all(np.isfinite(X))
