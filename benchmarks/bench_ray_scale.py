"""A synthetic text-only store of N videos through the Ray engine: ingest, then titles in chunks.

    python benchmarks/bench_ray_scale.py --videos 1000000 --store scale-1m     # rerun the same to resume
    python benchmarks/bench_ray_scale.py --videos 20000 --chunk 5000 --store scale-20k

Writes N synthetic videos (the demo's niches, title templates, emoji and hashtags; one observation each, no
thumbnail) as CSV files of 100,000 videos, ingests them with ``miles ingest`` and runs ``miles embed
--modality text --engine ray --chunk C`` on them, each a fresh process whose whole tree (the CLI, Ray's GCS,
raylet and workers) is sampled from /proc each second for peak memory. Each chunk's time is taken when the engine logs
that the chunk is merged, so it covers reading it from Lance, starting the actor pool, encoding, staging
and merging. The store is kept: a kill loses at most the chunk in flight, and the same command resumes
where it stopped (ingest is skipped when the store has the videos). Every run appends its numbers to
``<store>.runs.jsonl``, a run stopped by Ctrl-C or SIGTERM too (with what it merged), and the table sums
all runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import signal
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from bench_ray import Stopped, run

FILE_VIDEOS = 100_000
CHUNK_LINE = re.compile(r"chunk of (\d+) merged \((\d+)/(\d+)\)(?:.*merge ([\d.]+) s)?")


def write_sources(out: Path, n: int, seed: int = 0) -> list[Path]:
    """N text-only videos as CSV files of ``FILE_VIDEOS`` each (the demo's text, counts drawn simply)."""
    from miles.sources.demo import DAYS, NICHES, START, draft_text

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    niches = list(NICHES)
    files = []
    for first in range(0, n, FILE_VIDEOS):
        path = out / f"videos-{first // FILE_VIDEOS:03d}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["video_id", "platform", "creator_id", "title", "description", "hashtags", "language",
                        "duration_s", "published_at", "observed_at", "views", "likes", "creator_followers"])
            for i in range(first, min(n, first + FILE_VIDEOS)):
                creator = int(rng.integers(max(8, n // 16)))
                niche = niches[creator % len(niches)]
                thing, title, tags, _ = draft_text(rng, NICHES[niche], hook_rate=float(rng.uniform(0.2, 0.8)))
                published = START + timedelta(seconds=int(rng.integers(DAYS * 86400)))
                views = int(10 ** rng.normal(3.5, 0.8))
                w.writerow([f"scale_{i:07d}", "demo", f"creator_{creator:06d}", title,
                            f"{thing} | {niche} | SYNTHETIC scale video", " ".join(f"#{t}" for t in tags), "en",
                            round(float(rng.uniform(7, 60)), 1), published.isoformat(),
                            (published + timedelta(days=7)).isoformat(), views, int(views * 0.05),
                            int(10 ** rng.normal(4.3, 0.6))])
        files.append(path)
    return files


def count(store: Path, table: str) -> int:
    import lance

    path = store / f"{table}.lance"
    return lance.dataset(str(path)).count_rows() if path.exists() else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=1_000_000)
    ap.add_argument("--store", type=Path, required=True, help="kept between runs, so that a rerun resumes")
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--actors", type=int, default=1)
    ap.add_argument("--gpus-per-actor", type=float, default=0.0, help="on a GPU machine: 1")
    args = ap.parse_args()
    log_path = args.store.with_name(args.store.name + ".runs.jsonl")
    miles = [sys.executable, "-m", "miles.cli"]
    print(f"# {args.videos:,} synthetic text-only videos through the Ray engine · {platform.machine()} · "
          f"{os.cpu_count()} cores · {time.strftime('%Y-%m-%d')} · chunk {args.chunk:,} · {args.actors} actor(s)")
    if count(args.store, "videos") < args.videos:
        t = time.perf_counter()
        files = write_sources(args.store.with_name(args.store.name + "-src"), args.videos)
        made = time.perf_counter() - t
        wall, peak = run(miles + ["-q", "ingest", *map(str, files), "--store", str(args.store)], every=1.0)
        record(log_path, {"step": "ingest", "videos": count(args.store, "videos"), "wall_s": wall,
                          "peak_mib": peak, "write_csv_s": made})
    chunks: list[tuple] = []  # (videos, seconds since the last chunk[, seconds of its merge])
    last = [0.0]

    def on_line(line: str) -> None:
        m = CHUNK_LINE.search(line)
        if m:
            now = time.perf_counter()
            merge = (float(m.group(4)),) if m.group(4) else ()
            chunks.append((int(m.group(1)), now - last[0], *merge))
            last[0] = now
            print(f"  chunk {len(chunks)}: {m.group(1)} videos in {chunks[-1][1]:.1f} s ({m.group(2)}/{m.group(3)})"
                  + (f", its merge {merge[0]:.1f} s" if merge else ""), flush=True)

    before = count(args.store, "emb_text_minilm")
    last[0] = time.perf_counter()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a SIGTERM stops the run as Ctrl-C does
    stopped = False
    try:
        wall, peak = run(miles + ["embed", "--store", str(args.store), "--modality", "text", "--engine", "ray",
                                  "--chunk", str(args.chunk), "--actors", str(args.actors),
                                  "--gpus-per-actor", str(args.gpus_per_actor)], on_line, every=1.0)
    except Stopped as stop:  # the chunks merged so far are kept, and so are their numbers
        wall, peak, stopped = stop.wall, stop.peak, True
    first = chunks[0][1] if chunks else 0.0  # from the start of the process
    record(log_path, {"step": "embed", "encoded": count(args.store, "emb_text_minilm") - before, "wall_s": wall,
                      "peak_mib": peak, "chunks": chunks, "until_first_chunk_s": first, "stopped": stopped})
    report(log_path, args.store)


def record(path: Path, entry: dict) -> None:
    entry["date"] = time.strftime("%Y-%m-%d %H:%M")
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")


def report(log_path: Path, store: Path) -> None:
    runs = [json.loads(line) for line in log_path.read_text().splitlines()]
    print(f"{'step':<16}{'videos':>11}{'wall s':>10}{'videos/s':>10}{'peak MiB (tree)':>17}")
    for r in runs:
        n = r.get("videos", r.get("encoded", 0))
        step = r["step"] + (" (stopped)" if r.get("stopped") else "")
        print(f"{step:<16}{n:>11,}{r['wall_s']:>10.1f}{n / r['wall_s']:>10.0f}{r['peak_mib']:>17,.0f}")
    embeds = [r for r in runs if r["step"] == "embed"]
    secs = [c[1] for r in embeds for c in r["chunks"][1:]]  # a run's first chunk also pays for starting Ray
    done = sum(r["encoded"] for r in embeds)
    wall = sum(r["wall_s"] for r in embeds)
    print(f"# embed, all {len(embeds)} run(s): {done:,} titles in {wall:.0f} s ({done / wall:.0f}/s); "
          f"store {count(store, 'emb_text_minilm'):,} vectors of {count(store, 'videos'):,} videos")
    if secs:
        print(f"# chunks after a run's first: median {statistics.median(secs):.1f} s, min {min(secs):.1f}, "
              f"max {max(secs):.1f}; a run's start until its first chunk is merged: "
              + ", ".join(f"{r['until_first_chunk_s']:.1f} s" for r in embeds))


if __name__ == "__main__":
    main()
