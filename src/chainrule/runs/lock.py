"""One writer per run folder: an advisory lock held for the life of a training run.

``RunLock(run_dir)`` takes ``fcntl.flock`` on ``<run_dir>/.lock`` without waiting and writes
the holder's pid into it; a second ``chainrule train`` (new or ``--resume``) on the same folder
gets ``RunLockedError: RUN is being trained by process N`` before it reads or writes anything
else there. The kernel drops the lock when its holder exits, however it exits (SIGKILL
included), so a stale ``.lock`` never blocks a resume. On release the file is removed while
still locked; a process that opened it just before then finds, once it has the lock, that the
path no longer names the file it locked, and starts over on the new one.

Where ``fcntl`` does not exist (Windows) or the filesystem refuses locks (some network
filesystems), the run goes on unlocked, as before: the lock guards against a mistake, it is not
what keeps a run correct.
"""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path

from ..errors import RunLockedError

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None

LOCK_NAME = ".lock"


class RunLock:
    """Context manager: hold the lock on ``run_dir`` (which must exist) or raise RunLockedError."""

    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.fd = None

    def __enter__(self):
        if fcntl is None:
            return self
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                holder = _read_pid(fd)
                os.close(fd)
                if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    by = f"process {holder}" if holder else "another process"
                    raise RunLockedError(f"{self.run_dir} is being trained by {by}; wait for it to finish "
                                         "(or stop it) before training in this folder") from None
                warnings.warn(f"cannot lock {self.path} ({e.strerror}): training without a lock", stacklevel=2)
                return self
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the previous holder removed it after we opened it: take the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            try:
                self.path.unlink(missing_ok=True)  # while still holding it (see the module's docstring)
            finally:
                os.close(self.fd)
                self.fd = None
        return False


def _read_pid(fd):
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return text if text.isdigit() else None
