"""Outbound HTTP with a deadline for the whole call and a cap on what comes back.

    reply = post_json("http://127.0.0.1:8080/v1/chat/completions", body, headers, deadline=20, max_bytes=2**20)
    page = get_json("https://www.googleapis.com/youtube/v3/videos?id=...&key=...", deadline=20)

A socket timeout only bounds each read: a server that sends one byte every few seconds, or never stops
sending, would hold a caller forever. Here the reads stop at the deadline (``Timeout``, a ``TimeoutError``)
and the body at ``max_bytes`` (a ``MilesError``), whatever the server does. Any layer may use it: it
imports only ``miles.errors``.

``get_bytes`` is how the collector fetches what a page names (a thumbnail): besides the deadline and the cap,
every hop — the URL and each redirect — must resolve to addresses as public as the page's own host, so a
page on the internet cannot send Miles to 127.0.0.1, the local network or a cloud metadata address
(``Refused``); a page the user serves locally may name local files. ``public_only()`` holds the same rule
at the socket: inside it, this thread cannot connect to an address that is not global (checked by a Python
audit hook at ``socket.connect``, so it covers what yt-dlp fetches, every redirect and a DNS answer that
changed since it was checked).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from miles.errors import MilesError


class Timeout(MilesError, TimeoutError):
    """A remote server did not answer within the deadline: not a bug in Miles, and one line to the user."""


class Refused(MilesError):
    """A URL that leads to a loopback, link-local, private or reserved address from a public page."""


CHUNK = 16 * 1024
MAX_REDIRECTS = 5


_POLICY = threading.local()
_HOOKED: list[bool] = []


def _audit(event: str, args) -> None:
    if event != "socket.connect" or not getattr(_POLICY, "public_only", False):
        return
    sock, address = args
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
    except ValueError:
        return
    if not ip.is_global or ip.is_multicast:
        raise Refused(f"{ip} is a local, private or reserved address: a public page may not send Miles there")


@contextmanager
def public_only(enabled: bool = True) -> Iterator[None]:
    """While inside, connections from this thread go only to global addresses (``enabled=False``: no rule)."""
    if enabled and not _HOOKED:
        sys.addaudithook(_audit)  # once per process; it does nothing outside this context
        _HOOKED.append(True)
    before = getattr(_POLICY, "public_only", False)
    _POLICY.public_only = enabled
    try:
        yield
    finally:
        _POLICY.public_only = before


def _addresses(host: str) -> set:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return set()  # unresolvable: the fetch itself fails with its own error
    return {ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos}


def is_public(host: str) -> bool:
    """True when every address ``host`` resolves to is a global unicast one (DNS asked now)."""
    return all(a.is_global and not a.is_multicast for a in _addresses(host))


def local_ok(url: str) -> bool:
    """May what ``url`` names reach this machine or its network? Only when ``url`` itself is local."""
    host = urllib.parse.urlsplit(url).hostname
    return bool(host) and not is_public(host)


def check_url(url: str, local_ok: bool) -> str:
    """``url`` if it is http(s) and leads only to public addresses (or, with ``local_ok``, to this machine
    or the private network too); a link-local address (a cloud's metadata service) or a reserved one is
    never fetched. ``Refused`` otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"only http and https addresses are fetched, not {url[:100]!r}")
    addrs = _addresses(parts.hostname)
    never = [a for a in addrs if a.is_link_local or a.is_multicast or a.is_unspecified or
             (a.is_reserved and not a.is_private)]
    if never or (not local_ok and not all(a.is_global for a in addrs)):
        raise Refused(f"{parts.hostname} is a local, private or reserved address: a public page may not send "
                      "Miles there")
    return url


class _Checked(urllib.request.HTTPRedirectHandler):
    def __init__(self, local_ok: bool):
        self.local_ok, self.hops = local_ok, 0

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.hops += 1
        if self.hops > MAX_REDIRECTS:
            raise Refused(f"more than {MAX_REDIRECTS} redirects")
        check_url(urllib.parse.urljoin(req.full_url, newurl), self.local_ok)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def get_bytes(url: str, headers: dict | None = None, deadline: float = 20.0, max_bytes: int = 1 << 23,
              local_ok: bool = False) -> bytes:
    """GET ``url``'s body within ``deadline`` seconds in all and ``max_bytes``, each hop checked by
    ``check_url`` (``local_ok``: the page that named it is itself local)."""
    opener = urllib.request.build_opener(_Checked(local_ok))
    req = urllib.request.Request(check_url(url, local_ok), headers=headers or {})

    def open_url(timeout):
        with public_only(not local_ok):
            return opener.open(req, timeout=timeout)

    return _call(open_url, deadline, max_bytes)


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
    data = _call(lambda timeout: urllib.request.urlopen(req, timeout=timeout), deadline, max_bytes)
    return json.loads(data.decode("utf-8"))


def _call(open_url, deadline: float, max_bytes: int) -> bytes:
    """The call runs on a daemon thread, so even a server that trickles its headers cannot hold the caller
    past the deadline."""
    import urllib.error

    start = time.monotonic()
    box: dict = {}

    def call():
        try:
            with open_url(max(0.05, min(deadline, 5.0))) as resp:
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
    return box["data"]
