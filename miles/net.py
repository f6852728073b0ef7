"""Outbound HTTP with a deadline for the whole call and a cap on what comes back.

    reply = post_json("http://127.0.0.1:8080/v1/chat/completions", body, headers, deadline=20, max_bytes=2**20)
    page = get_json("https://www.googleapis.com/youtube/v3/videos?id=...&key=...", deadline=20)

A socket timeout only bounds each read: a server that sends one byte every few seconds, or never stops
sending, would hold a caller forever. Here the reads stop at the deadline (``Timeout``, a ``TimeoutError``)
and the body at ``max_bytes`` (a ``MilesError``), whatever the server does. Any layer may use it: it
imports only ``miles.errors``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request

from miles.errors import MilesError


class Timeout(MilesError, TimeoutError):
    """A remote server did not answer within the deadline: not a bug in Miles, and one line to the user."""


CHUNK = 16 * 1024


def read_limited(resp, deadline_at: float, max_bytes: int) -> bytes:
    parts, total = [], 0
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    while True:
        left = deadline_at - time.monotonic()
        if left <= 0:
            raise Timeout("the server did not finish its reply before the deadline")
        if sock is not None:
            sock.settimeout(max(0.05, min(left, 5.0)))
        chunk = resp.read1(CHUNK) if hasattr(resp, "read1") else resp.read(CHUNK)
        if not chunk:
            return b"".join(parts)
        total += len(chunk)
        if total > max_bytes:
            raise MilesError(f"the reply passed {max_bytes:,} bytes and was cut off")
        parts.append(chunk)


def post_json(url: str, body: dict, headers: dict | None = None, deadline: float = 20.0,
              max_bytes: int = 1 << 20) -> dict:
    """POST ``body`` as JSON and return the JSON reply, within ``deadline`` seconds in all."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    return _json(req, deadline, max_bytes)


def get_json(url: str, headers: dict | None = None, deadline: float = 20.0, max_bytes: int = 1 << 22) -> dict:
    """GET ``url`` and return the JSON reply, within ``deadline`` seconds in all. An HTTP error status raises
    ``urllib.error.HTTPError`` (its body already read into ``err.body``)."""
    return _json(urllib.request.Request(url, headers=headers or {}), deadline, max_bytes)


def _json(req: urllib.request.Request, deadline: float, max_bytes: int) -> dict:
    """The call runs on a daemon thread, so even a server that trickles its headers cannot hold the caller
    past the deadline."""
    import urllib.error

    start = time.monotonic()
    box: dict = {}

    def call():
        try:
            with urllib.request.urlopen(req, timeout=max(0.05, min(deadline, 5.0))) as resp:
                box["data"] = read_limited(resp, start + deadline, max_bytes)
        except urllib.error.HTTPError as err:
            try:
                err.body = read_limited(err, start + deadline, max_bytes)
            except Exception:
                err.body = b""
            box["error"] = err
        except BaseException as err:  # handed to the caller
            box["error"] = err

    worker = threading.Thread(target=call, name="miles-http", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        raise Timeout(f"no complete reply within {deadline:g} s")
    if "error" in box:
        raise box["error"]
    return json.loads(box["data"].decode("utf-8"))
