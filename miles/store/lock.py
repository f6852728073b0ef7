"""One writer at a time per store: a lock file that a second writer waits on, then fails on clearly.

    with writer_lock(store, "ingest"):
        ...   # upserts

Lance commits optimistically: two processes merging the same keys at once can both append, and the store
keeps duplicates for good. Every command that writes (ingest, embed, index, eval, train, demo) holds this
lock; readers never take it. On a local store it is an advisory ``flock`` on ``<store>/.miles-write.lock``,
released by the kernel when the process dies (a ``kill -9`` leaves no stale lock); on S3 a lease object
(``miles.store.lease``) that expires when its holder stops renewing it. Re-entrant within a process (the
demo's ingest inside the demo). A second writer waits up to ``timeout`` seconds (``$MILES_LOCK_TIMEOUT``,
default 600), then stops with a message naming the process that holds the store.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from contextlib import contextmanager

from miles.errors import MilesError
from miles.store.lease import LOCK_NAME, Lease, busy, holder_text

_HELD: dict[str, list] = {}  # store key -> [the held lock, depth]
_GUARD = threading.Lock()


def _timeout() -> float:
    try:
        return float(os.environ.get("MILES_LOCK_TIMEOUT", "600"))
    except ValueError:
        return 600.0


@contextmanager
def writer_lock(store, command: str, timeout: float | None = None):
    key = store.location.key  # one key however the store was named (relative, absolute, before it existed)
    with _GUARD:
        if key in _HELD:
            _HELD[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _GUARD:
                _HELD[key][1] -= 1
        return
    held = Lease(store.location, command) if store.remote else FileLock(store, command)
    held.acquire(_timeout() if timeout is None else timeout)
    with _GUARD:
        _HELD[key] = [held, 1]
    try:
        yield
    finally:
        with _GUARD:
            del _HELD[key]
        held.release()


class FileLock:
    """An advisory ``flock`` on ``<store>/.miles-write.lock``."""

    def __init__(self, store, command: str):
        self.store, self.command = store, command
        self.fd = None

    def acquire(self, wait: float) -> None:
        import fcntl

        path = self.store.path / LOCK_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # a link in its place is refused, never followed (it would truncate the file it points at)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise MilesError(f"the store's lock file {path} cannot be opened ({err.strerror}): if it is a link, "
                             "remove it") from None
        start = time.monotonic()
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise MilesError(f"the store's lock file {path} is not a regular file (a FIFO or a device): "
                                 "remove it")
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() - start >= wait:
                        raise busy(self.store, _holder(fd), wait) from None
                    time.sleep(0.1)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": self.command, "since": time.time()}).encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def release(self) -> None:
        import fcntl

        os.ftruncate(self.fd, 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _holder(fd: int) -> str:
    try:
        return holder_text(json.loads(os.pread(fd, 4096, 0).decode() or "{}"))
    except (OSError, ValueError):
        return "unknown"
