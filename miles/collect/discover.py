"""``miles scrape discover``: put the videos that listings name into the ``tracked`` table.

    found = discover(store, ["https://www.youtube.com/@handle/shorts", "ytsearch20:ramen hack"], limit=50)

A channel's Shorts tab, a playlist, a search, a single video, a TikTok profile: whatever yt-dlp lists. A
video already tracked keeps its state; a listing that fails is reported and the others go on. A listing
may only name pages as public as its own host (``miles.net.check_url``): a channel on the internet cannot
make the collector fetch from this machine or its network; a refused link is reported with the reason.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone

from miles.collect.ytdlp import Blocked, Client, FetchError
from miles.net import Refused, check_url, local_ok
from miles.store import Store
from miles.store.lock import writer_lock


@dataclass
class Discovered:
    listed: int = 0
    new: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # url -> why
    stopped: str | None = None

    def line(self) -> str:
        out = f"listed {self.listed} · new {self.new} · listings failed {len(self.failed)}"
        for url, why in self.failed.items():
            out += f"\n  {url}: {why}"
        return out + (f"\nstopped early: {self.stopped}" if self.stopped else "")


def allowed(listing: str, found: list[tuple[str, str, str]]) -> tuple[list, dict[str, str]]:
    """The entries of a listing whose pages are as public as the listing's own host, and why each other
    one was refused: a listing may not send the collector to this machine or its network."""
    local = local_ok(listing)
    kept, refused = [], {}
    for entry in found:
        try:
            if urllib.parse.urlsplit(entry[1]).scheme in ("http", "https"):
                check_url(entry[1], local)
            kept.append(entry)
        except Refused as err:
            refused[entry[1][:200]] = str(err)
    return kept, refused


def discover(store: Store, urls: list[str], limit: int | None = None, client: Client | None = None,
             now: datetime | None = None) -> Discovered:
    client = client or Client()
    now = now or datetime.now(timezone.utc)
    out = Discovered()
    rows: dict[str, dict] = {}
    for url in urls:
        try:
            found = client.listing(url, limit)
        except Blocked as err:
            out.failed[url], out.stopped = str(err), f"the platform refused ({err}); run again later"
            break
        except FetchError as err:
            out.failed[url] = str(err)
            continue
        out.listed += len(found)
        found, refused = allowed(url, found)
        out.failed.update(refused)
        for vid, link, platform in found:
            rows.setdefault(vid, {"video_id": vid, "url": link, "platform": platform, "source": url[:500],
                                  "discovered_at": now, "status": "tracking", "failures": 0, "last_error": None,
                                  "last_attempt_at": None})
    if rows:
        with writer_lock(store, "scrape discover"):
            known = set(store.read("tracked", columns=["video_id"])["video_id"].to_pylist())
            fresh = [r for v, r in rows.items() if v not in known]
            store.insert_new("tracked", fresh)
            out.new = len(fresh)
    return out
