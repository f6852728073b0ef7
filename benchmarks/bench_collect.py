"""Collection numbers: requests and label error per ladder, track throughput, the cost of 100k tracked videos.

    python benchmarks/bench_collect.py --videos 100 --days 30

1. ``miles scrape simulate`` for several ladders (the default and sparser ones): requests per video over
   the simulated days, and the error of the labels Miles computes from the collected snapshots against
   the simulator's truth (log10 units; velocity at 168 h and views at 1, 6 and 24 h).
2. Track throughput: one pass over videos that are all due, against the local platform with no pause
   between requests (videos per second, through yt-dlp's networking).
3. 100k tracked videos: the time and peak memory of finding what is due (the store read, the ladder).
"""

from __future__ import annotations

import argparse
import platform
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path

LADDERS = {
    "default": None,
    "without 30m (the default before)": ["1h", "3h", "6h", "12h", "24h", "48h", "72h", "6d", "7d", "8d", "14d", "30d"],
    "sparse (1h 24h 7d 30d)": ["1h", "24h", "7d", "30d"],
    "no 6d/8d (1h 6h 24h 7d 30d)": ["1h", "6h", "24h", "7d", "30d"],
}


def ladders(videos: int, days: float, step: str) -> None:
    from miles.collect.ladder import DEFAULT_AGES, parse_span
    from miles.collect.simulate import simulate
    from miles.store import Store

    print(f"\n## ladders: {videos} videos, {days:g} simulated days, a track pass every {step}")
    print(f"{'ladder':<30}{'req/video':>10}{'fetch/video':>12}{'target':>20}{'labelled':>10}{'median':>8}{'p90':>8}"
          f"{'wall s':>8}")
    for name, ages in LADDERS.items():
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            r = simulate(Store.open(Path(tmp) / "s"), videos=videos, days=days, ages=ages or DEFAULT_AGES,
                         step_hours=parse_span(step).total_seconds() / 3600)
            wall = time.perf_counter() - t
        for i, (target, e) in enumerate(r.errors.items()):
            head = (f"{name:<30}{r.requests / videos:>10.1f}{r.fetches / videos:>12.1f}" if i == 0
                    else " " * 52)
            print(f"{head}{target:>20}{e['labelled']:>5}/{e['n']:<4}{e['median_abs_error']:>8.3f}"
                  f"{e['p90_abs_error']:>8.3f}" + (f"{wall:>8.0f}" if i == 0 else ""))


def throughput(n: int) -> None:
    from miles.collect.discover import discover
    from miles.collect.extractors import EXTRACTORS
    from miles.collect.ladder import Ladder
    from miles.collect.platform import PlatformServer, World
    from miles.collect.track import track
    from miles.collect.ytdlp import Client
    from miles.store import Store

    world = World.make(videos=n, days=10, seed=1, publish_days=1)
    world.clock.advance(days=2)
    with tempfile.TemporaryDirectory() as tmp, PlatformServer(world) as server:
        store = Store.open(Path(tmp) / "s")
        client = Client(pause=0, extra_extractors=EXTRACTORS)
        discover(store, [server.url(f"/sim/@{c}/shorts") for c in world.creators], client=client, now=world.clock())
        for label in ("first fetch (page + thumbnail)", "next rung (page only)"):
            t = time.perf_counter()
            s = track(store, Ladder.parse(), max_requests=n, client=client, now=world.clock)
            wall = time.perf_counter() - t
            print(f"{label:<34}{s.fetched:>8}{wall:>9.1f}{s.fetched / wall:>10.1f}")
            world.clock.advance(days=1)


def many(n: int) -> None:
    import numpy as np
    import pyarrow as pa

    from miles.collect.ladder import Ladder
    from miles.collect.platform import START
    from miles.collect.track import state
    from miles.store import Store

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "s")
        ids = [f"v{i:07d}" for i in range(n)]
        published = [START + timedelta(hours=float(h)) for h in rng.uniform(0, 24 * 30, n)]
        store.insert_new("tracked", pa.Table.from_pylist([
            {"video_id": v, "url": f"https://example.invalid/{v}", "platform": "youtube", "source": "bench",
             "discovered_at": START, "status": "tracking", "failures": 0, "last_error": None,
             "last_attempt_at": None} for v in ids]))
        store.insert_new("videos", [{"video_id": v, "platform": "youtube", "published_at": p}
                                    for v, p in zip(ids, published)])
        snaps = [{"video_id": v, "observed_at": p + timedelta(hours=h), "views": 1}
                 for v, p in zip(ids, published) for h in (1.2, 6.3, 24.5, 50.0)]
        store.insert_new("snapshots", snaps)
        now = START + timedelta(days=31)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = time.perf_counter()
        rows = state(store)
        ladder = Ladder.parse()
        due = [r for r in rows if ladder.due(r["published_at"], r["observed"], now)]
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>10,}{len(snaps):>12,}{len(due):>8,}{wall:>9.2f}{before:>16.0f}{peak:>12.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=100)
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--step", default="1h")
    ap.add_argument("--throughput", type=int, default=500)
    ap.add_argument("--tracked", type=int, default=100_000)
    ap.add_argument("--ladders", nargs="+", default=None, metavar="NAME",
                    help="only these ladders (names as in LADDERS, by their first word), and only that table")
    args = ap.parse_args()
    if args.ladders:
        for name in [n for n in LADDERS if n.split()[0] not in args.ladders]:
            LADDERS.pop(name)
    print(f"# collection benchmark · {platform.machine()} · {__import__('os').cpu_count()} cores · "
          f"{time.strftime('%Y-%m-%d')}")
    ladders(args.videos, args.days, args.step)
    if args.ladders:
        return
    print(f"\n## track throughput against 127.0.0.1, no pause\n{'pass':<34}{'fetched':>8}{'wall s':>9}{'videos/s':>10}")
    throughput(args.throughput)
    print(f"\n## finding what is due\n{'tracked':>10}{'snapshots':>12}{'due':>8}{'wall s':>9}{'RSS before MiB':>16}"
          f"{'peak MiB':>12}")
    many(args.tracked)


if __name__ == "__main__":
    main()
