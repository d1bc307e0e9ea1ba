"""report.export writes atomically: a failed export leaves an earlier one as it was and no stray files;
without pyarrow, --export parquet is one line naming the package."""

import contextlib
import csv
import os
import sys
import types

import pytest

from chainrule.errors import OptionalDependencyError
from chainrule.sweep import report

KEYS = ["optimizer.learning_rate"]


def rows(n):
    return [{"key": f"h{i}:0", "config_hash": f"h{i}", "seed": 0, "optimizer.learning_rate": 0.01 * (i + 1),
             "status": "ok", "error": None, "final": 0.5 / (i + 1), "best": 0.4 / (i + 1), "epochs": 5,
             "wall_time": 0.1} for i in range(n)]


def fail_fsync(monkeypatch):
    """The disk fails after the temporary file's bytes were written (os.fsync is the last step before
    the rename in saving.atomic)."""
    def fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)


def test_csv_export_is_readable_and_replaced_whole(tmp_path):
    path = tmp_path / "trials.csv"
    report.export(rows(2), KEYS, path, "csv")
    report.export(rows(3), KEYS, path, "csv")
    with open(path, newline="") as f:
        read = list(csv.DictReader(f))
    assert [r["key"] for r in read] == ["h0:0", "h1:0", "h2:0"]
    assert float(read[2]["optimizer.learning_rate"]) == pytest.approx(0.03)
    assert sorted(os.listdir(tmp_path)) == ["trials.csv"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_export_failing_on_disk_leaves_the_earlier_one_untouched(fmt, tmp_path, monkeypatch):
    if fmt == "parquet":
        fake_pyarrow(monkeypatch)
    path = tmp_path / f"trials.{fmt}"
    report.export(rows(2), KEYS, path, fmt)
    before = path.read_bytes()
    fail_fsync(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        report.export(rows(5), KEYS, path, fmt)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [f"trials.{fmt}"]  # the temporary file is gone


def fake_pyarrow(monkeypatch, fail_after=None):
    """A stand-in for pyarrow (not a dependency of the tests): Table.from_pylist, BufferOutputStream and
    parquet.write_table writing a few bytes per record, raising midway if ``fail_after`` records."""
    pa = types.ModuleType("pyarrow")
    pq = types.ModuleType("pyarrow.parquet")

    class Table(list):
        @classmethod
        def from_pylist(cls, records):
            return cls(records)

    class BufferOutputStream:
        def __init__(self):
            self.data = bytearray()

        def write(self, b):
            self.data += b

        def getvalue(self):
            return types.SimpleNamespace(to_pybytes=lambda: bytes(self.data))

    def write_table(table, where):
        # like pyarrow's: a stream, or a path it opens and writes as it goes
        with contextlib.nullcontext(where) if hasattr(where, "write") else open(where, "wb") as sink:
            sink.write(b"PAR1")
            for i, record in enumerate(table):
                if fail_after is not None and i == fail_after:
                    raise RuntimeError("writer failed midway")
                sink.write(record["key"].encode() + b"\n")

    pa.Table, pa.BufferOutputStream, pa.parquet, pq.write_table = Table, BufferOutputStream, pq, write_table
    monkeypatch.setitem(sys.modules, "pyarrow", pa)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", pq)


def test_parquet_export_writes_what_the_writer_made(tmp_path, monkeypatch):
    fake_pyarrow(monkeypatch)
    path = tmp_path / "trials.parquet"
    report.export(rows(2), KEYS, path, "parquet")
    assert path.read_bytes() == b"PAR1h0:0\nh1:0\n"


def test_a_parquet_writer_failing_midway_leaves_the_earlier_export_untouched(tmp_path, monkeypatch):
    fake_pyarrow(monkeypatch, fail_after=2)
    path = tmp_path / "trials.parquet"
    report.export(rows(1), KEYS, path, "parquet")  # fewer rows than the failing export writes before failing
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="midway"):
        report.export(rows(4), KEYS, path, "parquet")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["trials.parquet"]


def test_parquet_without_pyarrow_is_one_line_naming_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    with pytest.raises(OptionalDependencyError) as e:
        report.export(rows(1), KEYS, tmp_path / "trials.parquet", "parquet")
    message = str(e.value)
    assert "\n" not in message and "pip install pyarrow" in message, message
    assert os.listdir(tmp_path) == []


def test_real_parquet_round_trip(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = report.export(rows(3), KEYS, tmp_path / "trials.parquet", "parquet")
    table = pq.read_table(path).to_pylist()
    assert [r["key"] for r in table] == ["h0:0", "h1:0", "h2:0"]
    assert table[1]["optimizer.learning_rate"] == pytest.approx(0.02)
