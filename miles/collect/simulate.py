"""``miles scrape simulate``: the whole collection loop offline, against the simulated platform.

    report = simulate(store, videos=200, days=30)     # discover + track through yt-dlp on a fake clock
    print(report.table())

The platform (``miles.collect.platform``) runs on 127.0.0.1; ``discover`` lists every creator's Shorts
every ``discover_every`` hours, and a ``track`` pass runs every ``step`` hours of simulated time, with no
pause between requests. The store it leaves is an ordinary one (``miles embed``, ``eval``, ``predict``).
The report compares the labels Miles computes from the collected snapshots with the world's truth:
velocity at the label age, and views at the early moments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from miles.collect.discover import discover
from miles.collect.extractors import EXTRACTORS
from miles.collect.ladder import DEFAULT_AGES, Ladder
from miles.collect.platform import PlatformServer, World
from miles.collect.track import track
from miles.collect.ytdlp import Client
from miles.heads.labels import LabelSpec, compute_outcomes
from miles.store import Store

MOMENTS_H = (1.0, 6.0, 24.0)


@dataclass
class SimReport:
    videos: int
    days: float
    ladder: str
    requests: int
    fetches: int
    passes: int
    errors: dict[str, dict] = field(default_factory=dict)  # target -> {n, labelled, median_abs_error, ...}

    def table(self) -> str:
        lines = [f"simulated {self.days:g} days, {self.videos} videos, ladder {self.ladder}",
                 f"requests {self.requests} ({self.requests / max(self.videos, 1):.1f} per video; "
                 f"{self.fetches / max(self.videos, 1):.1f} video fetches per video) in {self.passes} track passes",
                 f"{'target':<22}{'labelled':>10}{'median |err|':>14}{'p90 |err|':>11}"]
        for name, e in self.errors.items():
            lines.append(f"{name:<22}{e['labelled']:>5}/{e['n']:<4}{e['median_abs_error']:>14.3f}{e['p90_abs_error']:>11.3f}")
        lines.append("errors in log10 units (0.1 is 26%); a video is labelled when its snapshots bracket the age")
        return "\n".join(lines)


def label_errors(store: Store, world: World, age_hours: float, moments=MOMENTS_H) -> dict[str, dict]:
    """How far the labels from the collected snapshots are from the truth, in log10 units."""
    videos = store.read("videos", columns=["video_id", "platform", "creator_id", "published_at"]).to_pandas()
    snaps = store.read("snapshots").to_pandas()
    out = {}
    for name, age, per_hour in [(f"velocity at {age_hours:g} h", age_hours, True)] + \
            [(f"views at {m:g} h", m, False) for m in moments]:
        oc = compute_outcomes(videos, snaps, LabelSpec(age_hours=age))
        oc = oc[oc["final"]]
        truth = np.array([math.log10(max(world.videos[v].views(age), 1) / (age if per_hour else 1.0))
                          for v in oc["video_id"]])
        got = oc["velocity"].to_numpy() + (0.0 if per_hour else math.log10(age))
        err = np.abs(got - truth)
        eligible = sum(1 for v in world.videos.values()
                       if v.published + timedelta(hours=age) <= world.clock.now and
                       (v.removed_h is None or v.removed_h > age))
        out[name] = {"n": eligible, "labelled": int(len(oc)),
                     "median_abs_error": float(np.median(err)) if len(err) else float("nan"),
                     "p90_abs_error": float(np.quantile(err, 0.9)) if len(err) else float("nan")}
    return out


def simulate(store: Store, videos: int = 200, days: float = 30, seed: int = 0, ages=DEFAULT_AGES,
             step_hours: float = 1.0, discover_every: float = 6.0, age_hours: float = 168.0,
             progress: bool = False) -> SimReport:
    from tqdm.auto import tqdm

    ladder = Ladder.parse(ages)
    world = World.make(videos=videos, days=days, seed=seed)
    end = world.clock.now + timedelta(days=days)
    steps = int(math.ceil(days * 24 / step_hours))
    fetches = passes = 0
    with PlatformServer(world) as server:
        client = Client(pause=0, extra_extractors=EXTRACTORS)
        channels = [server.url(f"/sim/@{c}/shorts") for c in world.creators]
        every = max(1, round(discover_every / step_hours))
        for i in tqdm(range(steps), desc="simulate", unit="step", disable=None if progress else True, leave=False):
            if i % every == 0:
                discover(store, channels, client=client, now=world.clock.now)
            s = track(store, ladder, max_requests=100_000, client=client, now=world.clock)
            fetches += s.fetched
            passes += 1
            world.clock.advance(hours=step_hours)
            if world.clock.now >= end:
                break
        requests = server.requests
    return SimReport(videos=videos, days=days, ladder=str(ladder), requests=requests, fetches=fetches, passes=passes,
                     errors=label_errors(store, world, age_hours))
