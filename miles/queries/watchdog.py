"""Work held to a memory and a time bound: it runs in a child process that a watchdog ends past either.

    answer = run_bounded("miles.queries.sql:bounded_query", {"query": q, ...}, memory=parse_size("1GB"),
                         timeout=60.0)      # answer["table"], plus what the work returned beside it

DuckDB's memory limit covers its buffer manager, not the strings a function builds: ``repeat('a', 2e9)``
grew the process by 4 GB under a 1 GB limit, and one function call over a chunk cannot be interrupted
(measured: an interrupt sent when the process had grown by 270 MB landed after it had grown by 960 MB).
Only ending the process bounds such a query. So the work runs in a fresh interpreter, which says when
its bounded part begins; from then the watchdog here reads the child's resident memory every 20 ms
(``/proc/PID/statm``, or psutil where there is no ``/proc``) and kills it once it has grown by more than
``KILL_AT`` times the bound (the polling lag stays within the rest of twice the bound), or once that
part has run past the timeout. The child writes its answer (an Arrow table and JSON) into a private
folder; an input mistake it meets comes back as the same ``MilesError`` class, its warnings are logged
here.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from miles.errors import MilesError, NotFound, TooLarge

log = logging.getLogger(__name__)

KILL_AT = 1.5  # times the memory bound: the child is killed past this growth, so it never reaches twice it
POLL_S = 0.02
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b|bytes?)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "byte": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
ERRORS = {cls.__name__: cls for cls in (MilesError, NotFound, TooLarge)}


def parse_size(text: str, flag: str = "--memory-limit") -> int:
    """``"256MB"`` → bytes, with DuckDB's units (KB = 1000 bytes, KiB = 1024)."""
    m = _SIZE.match(str(text))
    if not m or float(m.group(1)) <= 0:
        raise MilesError(f"{flag} takes a size such as 512MB or 2GB, got {text!r}")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "b").lower()])


def rss(pid: int) -> int | None:
    """The resident memory of process ``pid`` in bytes, or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        try:
            import psutil

            return psutil.Process(pid).memory_info().rss
        except Exception:  # no psutil, or the process is gone
            return None


def run_bounded(target: str, payload: dict[str, Any], memory: int, timeout: float | None,
                errors: dict[str, type[MilesError]] | None = None) -> dict[str, Any]:
    """Run ``target`` (``"module:function"``, called in the child as ``function(payload, ready)``) in a
    child process; from its ``ready()`` on, it may grow by at most ``memory`` bytes (killed past
    ``KILL_AT`` times that) and run for at most ``timeout`` seconds. Returns what it returned."""
    known = {**ERRORS, **(errors or {})}
    with tempfile.TemporaryDirectory(prefix="miles-bounded-") as tmp:
        folder = Path(tmp)
        (folder / "request.json").write_text(json.dumps({"target": target, "payload": payload}))
        code = f"import sys; del sys.path[0]; from {__name__} import child; child(sys.argv[1])"  # not the cwd
        proc = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE)
        try:
            _watch(proc, memory, timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        return _answer(folder, proc.returncode, known)


def _watch(proc: subprocess.Popen, memory: int, timeout: float | None) -> None:
    """Wait for the child; from its ``go`` line on, kill it past the bounds (raising why)."""
    while proc.poll() is None:  # loading: not bounded (the old in-process connect was not either)
        if select.select([proc.stdout], [], [], 0.1)[0]:
            if proc.stdout.readline().strip() == b"go":
                break
    else:
        return
    base, start = rss(proc.pid), time.monotonic()
    while True:
        try:
            proc.wait(POLL_S)
            return
        except subprocess.TimeoutExpired:
            pass
        now = rss(proc.pid)
        if base is not None and now is not None and now - base > KILL_AT * memory:
            proc.kill()
            raise MilesError(f"the query grew past {KILL_AT:g}x --memory-limit ({(now - base) / 2**20:,.0f} MiB) and "
                             "was stopped: raise --memory-limit or narrow the query")
        if timeout is not None and time.monotonic() - start > timeout:
            proc.kill()
            raise MilesError(f"the query ran past --timeout {timeout:g} s and was stopped")


def _answer(folder: Path, returncode: int, known: dict[str, type[MilesError]]) -> dict[str, Any]:
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        if returncode < 0:
            raise MilesError(f"the query's process was killed (signal {-returncode}; out of memory?)")
        raise RuntimeError(f"the query's process ended with code {returncode} and no answer")  # internal
    meta = json.loads(meta_path.read_text())
    for message in meta.get("warnings", []):
        log.warning("%s", message)
    if "error" in meta:
        raise known.get(meta["error"]["kind"], MilesError)(meta["error"]["message"])
    if "bug" in meta:
        raise RuntimeError(f"in the query's process: {meta['bug']}")  # internal
    answer = meta["answer"]
    if (folder / "table.arrow").exists():
        import pyarrow as pa

        with pa.OSFile(str(folder / "table.arrow")) as f:
            answer["table"] = pa.ipc.open_file(f).read_all()
    return answer


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def child(folder: str) -> None:
    """The child's side: run the request in ``folder``, write ``meta.json`` (and ``table.arrow``)."""
    out = Path(folder)
    request = json.loads((out / "request.json").read_text())
    caught = _Warnings()
    logging.getLogger("miles").addHandler(caught)

    def ready() -> None:
        sys.stdout.buffer.write(b"go\n")
        sys.stdout.buffer.flush()
        os.dup2(2, 1)  # anything printed later goes to stderr, never into a pipe nobody reads

    meta: dict[str, Any]
    try:
        module, _, name = request["target"].partition(":")
        answer = getattr(importlib.import_module(module), name)(request["payload"], ready)
        table = answer.pop("table", None)
        if table is not None:
            import pyarrow as pa

            with pa.OSFile(str(out / "table.arrow"), "wb") as f, pa.ipc.new_file(f, table.schema) as writer:
                writer.write_table(table)
        meta = {"answer": answer}
    except MilesError as err:
        meta = {"error": {"kind": type(err).__name__, "message": str(err)}}
    except Exception as err:  # a bug: its last words travel to the parent, which reports an internal error
        meta = {"bug": f"{type(err).__name__}: {err}"}
    meta["warnings"] = caught.messages
    (out / "meta.json.tmp").write_text(json.dumps(meta))
    os.replace(out / "meta.json.tmp", out / "meta.json")
