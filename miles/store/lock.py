"""One writer at a time per store: a lock file that a second writer waits on, then fails on clearly.

    with writer_lock(store, "ingest"):
        ...   # upserts

Lance commits optimistically: two processes merging the same keys at once can both append, and the store
keeps duplicates for good. Every command that writes (ingest, embed, index, eval, train, demo) holds this
lock; readers never take it. It is an advisory ``flock`` on ``<store>/.miles-write.lock``, released by the
kernel when the process dies (a ``kill -9`` leaves no stale lock), and re-entrant within a process (the
demo's ingest inside the demo). A second writer waits up to ``timeout`` seconds (``$MILES_LOCK_TIMEOUT``,
default 600), then stops with a message naming the process that holds the store.
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from miles.errors import MilesError

LOCK_NAME = ".miles-write.lock"
_HELD: dict[str, list] = {}  # lock path -> [fd, depth]
_GUARD = threading.Lock()


def _timeout() -> float:
    try:
        return float(os.environ.get("MILES_LOCK_TIMEOUT", "600"))
    except ValueError:
        return 600.0


@contextmanager
def writer_lock(store, command: str, timeout: float | None = None):
    import fcntl

    path = Path(store.path) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())  # one key however the store was named (relative, absolute, before it existed)
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
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    wait = _timeout() if timeout is None else timeout
    start = time.monotonic()
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - start >= wait:
                    holder = _holder(fd)
                    raise MilesError(f"another Miles process ({holder}) is writing to {store.path}; waited "
                                     f"{wait:g} s: run this again when it has finished") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command, "since": time.time()}).encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    with _GUARD:
        _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        with _GUARD:
            del _HELD[key]
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return f"miles {info.get('command', '?')}, pid {info.get('pid', '?')}"
    except (OSError, ValueError):
        return "unknown"
