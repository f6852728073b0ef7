"""yt-dlp, used through its Python API: discovery listings, full metadata of one video, its thumbnail.

    client = Client(pause=2.0)                       # extra_extractors=[...] puts those before the defaults
    client.listing("https://www.youtube.com/@handle/shorts", limit=50)   # [(video_id, url, platform)]
    info = client.video(url)                         # the full info dict
    jpeg = client.thumbnail(info)                    # bytes (capped), or None

Errors come back as three kinds: ``Gone`` (removed, private, 404/410: stop tracking the video),
``Blocked`` (HTTP 429 or a bot check: end the run, keep what was fetched) and ``Failed`` (anything else,
retried later with backoff). Nothing here writes to the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from miles.errors import MilesError
from miles.net import Refused, local_ok, public_only
from miles.sources.images import MAX_BYTES

log = logging.getLogger(__name__)

GONE_WORDS = ("private video", "video unavailable", "has been removed", "is not available", "been terminated",
              "no longer available", "account associated with this video")
PAGE_DEADLINE = 60.0  # seconds for a whole page or listing, however slowly the server sends it
THUMBNAIL_DEADLINE = 20.0  # seconds for a whole thumbnail, however slowly the server sends it
BLOCKED_WORDS = ("confirm you're not a bot", "confirm you’re not a bot", "too many requests", "rate-limit",
                 "rate limit")


class FetchError(MilesError):
    """A fetch that failed; the subclass says what to do about it."""


class Gone(FetchError):
    """The video was removed or made private."""


class Blocked(FetchError):
    """The platform asks us to stop for now (HTTP 429, a bot check)."""


class Failed(FetchError):
    """Anything else: a timeout, a 5xx, a page yt-dlp could not read. Retried later."""


def _status(err: BaseException | None) -> int | None:
    from yt_dlp.networking.exceptions import HTTPError

    seen = 0
    while err is not None and seen < 8:
        if isinstance(err, HTTPError):
            return err.status
        err = getattr(err, "cause", None) or getattr(err, "__cause__", None) or \
            (err.exc_info[1] if getattr(err, "exc_info", None) and err.exc_info[1] is not err else None)
        seen += 1
    return None


def classify(err: BaseException) -> FetchError:
    """A yt-dlp error as Gone, Blocked or Failed, with yt-dlp's message (first line, without its advice)."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    text = text.replace("ERROR: ", "").split("; please report this issue")[0][:300]
    status = _status(err)
    low = text.lower()
    if status == 429 or any(w in low for w in BLOCKED_WORDS):
        return Blocked(text)
    if status in (404, 410) or any(w in low for w in GONE_WORDS):
        return Gone(text)
    return Failed(text)


class Client:
    """One ``YoutubeDL`` for a run: quiet, no downloads, a pause between requests."""

    def __init__(self, pause: float = 2.0, extra_extractors: Sequence = (), timeout: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, deadline: float = PAGE_DEADLINE,
                 allow_local: bool | None = None):
        self.extra, self.timeout, self.deadline = tuple(extra_extractors), timeout, deadline
        self.allow_local = allow_local  # None: a page on a local address may reach local addresses
        self.ydl = self._new()
        self.pause, self.sleep, self.requests = pause, sleep, 0

    def _new(self):
        from yt_dlp import YoutubeDL

        opts = {"quiet": True, "no_warnings": True, "noprogress": True, "skip_download": True,
                "ignore_no_formats_error": True, "socket_timeout": self.timeout, "extractor_retries": 0,
                "logger": _Quiet()}
        # Extractors added after the defaults would be shadowed by the generic one: add them first.
        ydl = YoutubeDL(opts, auto_init=False)
        for ie in self.extra:
            ydl.add_info_extractor(ie() if isinstance(ie, type) else ie)
        ydl.add_default_info_extractors()
        return ydl

    def _call(self, fn, *args, **kw):
        """``fn`` within ``self.deadline`` seconds in all: yt-dlp bounds each read of a page, not the page,
        so a server that trickles would hold the pass. Past the deadline the call is left to end on its own
        (a daemon thread) and this client takes a fresh ``YoutubeDL`` (the old one is still in use)."""
        if self.requests and self.pause > 0:
            self.sleep(self.pause)
        self.requests += 1
        box: dict = {}
        local_ok = self._local_ok(args[0] if args and isinstance(args[0], str) else "")

        def run():
            try:
                with public_only(not local_ok):  # every connection yt-dlp makes, redirects included
                    box["value"] = fn(*args, **kw)
            except BaseException as err:  # handed to the caller
                box["error"] = err

        worker = threading.Thread(target=run, name="miles-ytdlp", daemon=True)
        worker.start()
        worker.join(self.deadline)
        if worker.is_alive():
            self.ydl = self._new()
            raise Failed(f"no complete answer within {self.deadline:g} s")
        err = box.get("error")
        if err is None:
            return box.get("value")
        if isinstance(err, FetchError):
            raise err
        if isinstance(err, Refused):
            raise Failed(str(err)) from None
        if not isinstance(err, Exception):
            raise err
        raise classify(err) from err  # yt-dlp raises DownloadError wrapping the extractor's error

    def _local_ok(self, url: str) -> bool:
        """May fetching ``url`` reach this machine or its network? Only when the URL itself is local."""
        return self.allow_local if self.allow_local is not None else local_ok(url)

    def listing(self, url: str, limit: int | None = None) -> list[tuple[str, str, str]]:
        """(video_id, url, platform) of each video a channel, playlist, search or single URL lists. The
        listing's view counts (rounded text such as "1.2M views") are not kept: they are no snapshots."""
        self.ydl.params["extract_flat"] = "in_playlist"
        self.ydl.params["playlistend"] = limit
        try:
            info = self._call(self.ydl.extract_info, url, download=False)
        finally:
            self.ydl.params["extract_flat"] = False
            self.ydl.params["playlistend"] = None
        entries = info.get("entries") if info.get("_type") in ("playlist", "multi_video") else [info]
        out = []
        for e in list(entries or [])[: limit or None]:
            if not e or not e.get("id"):
                continue
            platform = str(e.get("ie_key") or e.get("extractor_key") or info.get("extractor_key") or "").lower()
            link = e.get("webpage_url") or e.get("url") or url
            out.append((str(e["id"]), str(link), _platform(platform)))
        return out

    def video(self, url: str) -> dict:
        """The full info dict of one video (no download)."""
        info = self._call(self.ydl.extract_info, url, download=False)
        return self.ydl.sanitize_info(info)

    def thumbnail(self, info: dict, deadline: float = THUMBNAIL_DEADLINE) -> bytes | None:
        """The video's thumbnail within ``deadline`` seconds in all and the image cap; None when it has none.
        Its address (and every redirect) must be as public as the video page's own (``miles.net``): a page
        on the internet cannot make Miles fetch from this machine or its network."""
        import urllib.error

        from miles.net import Timeout, get_bytes

        url = info.get("thumbnail")
        if not url:
            return None
        local_ok = self._local_ok(str(info.get("webpage_url") or info.get("original_url") or ""))
        headers = {k: v for k, v in (self.ydl.params.get("http_headers") or {}).items() if k.lower() == "user-agent"}
        if self.requests and self.pause > 0:
            self.sleep(self.pause)
        self.requests += 1
        try:
            return get_bytes(str(url), headers, deadline, MAX_BYTES + 1, local_ok)  # over the cap: ingest refuses it
        except (Refused, Timeout) as err:
            raise Failed(f"thumbnail: {err}") from None
        except urllib.error.HTTPError as err:
            raise (Gone if err.code in (404, 410) else Blocked if err.code == 429 else Failed)(
                f"thumbnail: HTTP {err.code}") from None
        except (OSError, MilesError, ValueError) as err:
            raise Failed(f"thumbnail: {str(err)[:200]}") from None


def _platform(key: str) -> str:
    for name in ("youtube", "tiktok", "instagram"):
        if key.startswith(name):
            return name
    return key or "unknown"


class _Quiet:
    """yt-dlp's messages go to Miles's log, not to the terminal."""

    def debug(self, msg):
        pass

    def info(self, msg):
        pass

    def warning(self, msg):
        log.debug("yt-dlp: %s", msg)

    def error(self, msg):
        log.debug("yt-dlp: %s", msg)
