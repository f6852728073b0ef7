"""A simulated short-video platform on 127.0.0.1, whose views grow along known curves on a fake clock.

    world = World.make(videos=200, days=30, seed=0)     # creators, videos, their true view curves
    with PlatformServer(world) as server:               # http://127.0.0.1:PORT/sim/...
        world.clock.advance(hours=6)
        server.url("/sim/@creator_0003/shorts")

Three kinds of video: fast starters (most views in the first hours), slow burners (a late take-off, a
logistic curve centred days after publishing) and flops; creators of different sizes. A few videos are
taken down part-way (then the page answers 410). ``server.refuse(n)`` makes the next ``n`` requests answer
429, as a platform that wants a crawler to slow down; ``server.slow(s)`` delays every answer. The truth (views at any age) stays with the world,
for measuring how well a ladder of snapshots recovers it. Titles and thumbnails come from the demo's
generator (``miles.sources.demo``).
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import numpy as np

START = datetime(2026, 6, 1, tzinfo=timezone.utc)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@dataclass
class SimVideo:
    id: str
    creator: str
    followers: int
    title: str
    tags: list[str]
    duration: float
    published: datetime
    kind: str  # fast | slow | flop
    v_inf: float  # views it ends with
    tau_h: float  # hours: the time scale of its growth
    removed_h: float | None  # taken down at this age, or never
    thumbnail: bytes = field(repr=False, default=b"")

    def views(self, age_h: float) -> int:
        """The true views at ``age_h`` hours after publishing."""
        if age_h <= 0:
            return 0
        if self.kind == "slow":  # a late take-off: logistic around 2 tau
            f = (1 / (1 + math.exp(-(age_h - 2 * self.tau_h) / (self.tau_h / 3))) - 1 / (1 + math.exp(6)))
            return int(self.v_inf * max(f, 0.0) / (1 - 1 / (1 + math.exp(6))))
        return int(self.v_inf * (1 - math.exp(-age_h / self.tau_h)))


@dataclass
class World:
    videos: dict[str, SimVideo]
    creators: dict[str, int]  # creator -> followers
    clock: Clock

    @classmethod
    def make(cls, videos: int = 200, days: float = 30, seed: int = 0, publish_days: float | None = None) -> World:
        """``videos`` published over the first ``publish_days`` (default two thirds of ``days``)."""
        from miles.sources.demo import NICHES, pick_title
        from miles.sources.drawn import thumbnail_image

        rng = np.random.default_rng(seed)
        span = publish_days if publish_days is not None else days * 2 / 3
        n_creators = max(3, videos // 10)
        creators = {f"creator_{c:04d}": int(10 ** float(np.clip(rng.normal(4.3, 0.7), 2.0, 7.0)))
                    for c in range(n_creators)}
        niches = list(NICHES)
        out = {}
        for i in range(videos):
            c = list(creators)[int(rng.integers(n_creators))]
            niche = NICHES[niches[int(rng.integers(len(niches)))]]
            template, hook = pick_title(rng, 0.5)
            title = template.format(x=niche["things"][int(rng.integers(len(niche["things"])))])
            kind = str(rng.choice(["fast", "slow", "flop"], p=[0.45, 0.2, 0.35]))
            scale = {"fast": 1.0, "slow": 1.3, "flop": 0.08}[kind]
            v_inf = creators[c] * scale * float(np.exp(rng.normal(hook, 0.6)))
            tau = {"fast": 8.0, "slow": 40.0, "flop": 12.0}[kind] * float(np.exp(rng.normal(0, 0.3)))
            published = START + timedelta(hours=float(rng.uniform(0, span * 24)))
            removed = float(rng.uniform(24, 24 * 20)) if rng.random() < 0.02 else None
            thumb = thumbnail_image(rng, niche, float(rng.beta(2, 2)), float(rng.beta(2, 2)), bool(rng.random() < 0.5),
                                    None)
            vid = f"sim{i:06d}"
            out[vid] = SimVideo(vid, c, creators[c], title[0].upper() + title[1:],
                                list(rng.choice(niche["tags"], size=2, replace=False)), float(int(rng.uniform(8, 60))),
                                published, kind, v_inf, tau, removed, thumb)
        return cls(out, creators, Clock())

    def listing(self, creator: str) -> list[SimVideo]:
        now = self.clock.now
        return sorted((v for v in self.videos.values() if v.creator == creator and v.published <= now),
                      key=lambda v: v.published, reverse=True)

    def page(self, vid: str) -> tuple[int, dict | None]:
        """(status, JSON) of a video's page at the clock's time."""
        v = self.videos.get(vid)
        now = self.clock.now
        if v is None or v.published > now:
            return 404, None
        age = (now - v.published).total_seconds() / 3600
        if v.removed_h is not None and age >= v.removed_h:
            return 410, {"error": "This video has been removed by the uploader"}
        views = v.views(age)
        return 200, {"id": v.id, "title": v.title, "description": " ".join(f"#{t}" for t in v.tags),
                     "tags": v.tags, "duration": v.duration, "timestamp": int(v.published.timestamp()),
                     "view_count": views, "like_count": int(views * 0.05), "channel_id": v.creator, "channel_follower_count": self.creators[v.creator]}


def rounded(n: int) -> str:
    """View counts as listings show them: "1.2M views"."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + f"{unit} views"
    return f"{n} views"


class PlatformServer:
    """The world behind HTTP on 127.0.0.1 (an OS-chosen port); a context manager."""

    def __init__(self, world: World):
        self.world, self.requests = world, 0
        self._refuse, self._status, self._after, self._delay = 0, 429, 0, 0.0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                status, body, kind = server.answer(unquote(self.path))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def refuse(self, n: int, status: int = 429, after: int = 0) -> None:
        """After ``after`` more requests, answer the next ``n`` with ``status`` (429 Too Many Requests: a
        platform that wants a crawler to slow down; 500: a passing fault)."""
        self._refuse, self._status, self._after = n, status, after

    def slow(self, seconds: float) -> None:
        """Wait this long before each answer (a slow platform)."""
        self._delay = seconds

    def answer(self, path: str) -> tuple[int, bytes, str]:
        if self._delay:
            time.sleep(self._delay)
        with self._lock:
            self.requests += 1
            if self._after > 0:
                self._after -= 1
            elif self._refuse > 0:
                self._refuse -= 1
                return self._status, json.dumps({"error": HTTPStatus(self._status).phrase}).encode(), "application/json"
            parts = path.strip("/").split("/")
            if len(parts) == 3 and parts[0] == "sim" and parts[1].startswith("@") and parts[2] == "shorts":
                rows = [{"id": v.id, "title": v.title, "views": rounded(v.views(
                    (self.world.clock.now - v.published).total_seconds() / 3600))} for v in self.world.listing(parts[1][1:])]
                return 200, json.dumps({"channel": parts[1][1:], "videos": rows}).encode(), "application/json"
            if len(parts) == 3 and parts[:2] == ["sim", "video"]:
                status, data = self.world.page(parts[2])
                return status, json.dumps(data or {"error": "not found"}).encode(), "application/json"
            if len(parts) == 3 and parts[:2] == ["sim", "thumb"] and parts[2].endswith(".jpg"):
                v = self.world.videos.get(parts[2][:-4])
                if v is not None and v.published <= self.world.clock.now:
                    return 200, v.thumbnail, "image/jpeg"
            return 404, b'{"error": "not found"}', "application/json"

    def __enter__(self) -> PlatformServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
