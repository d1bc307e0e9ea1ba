"""Atomic writes give a new file the mode the umask allows (0666 & ~umask), like every other tool,
not tempfile's private 0600."""

import os
import stat

import pytest

from chainrule.saving.atomic import atomic_write_bytes, atomic_write_json


@pytest.fixture
def umask():
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="file modes are POSIX")
@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o027, 0o640)])
def test_new_files_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    atomic_write_bytes(tmp_path / "a.bin", b"x")
    atomic_write_json(tmp_path / "b.json", {"a": 1})
    for name in ("a.bin", "b.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.json"]  # no temporary left behind


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="file modes are POSIX")
def test_a_replaced_file_gets_the_same_mode(tmp_path, umask):
    (tmp_path / "a.bin").write_bytes(b"old")
    atomic_write_bytes(tmp_path / "a.bin", b"new")
    assert (tmp_path / "a.bin").read_bytes() == b"new"
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o644
