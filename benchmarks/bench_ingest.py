"""Ingest throughput and peak memory at growing input sizes (synthetic demo rows with thumbnails).

    python benchmarks/bench_ingest.py --rows 10000 100000

Each size is generated once, then ingested in a fresh subprocess so that its peak RSS is its own.
Prints a table: rows, videos, seconds, rows/s, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from miles.sources import ingest
from miles.store import Store
t = time.perf_counter()
s = ingest([sys.argv[1]], Store.open(sys.argv[2]), progress=False)
dt = time.perf_counter() - t
print(json.dumps({"read": s.read, "stored": s.stored, "seconds": dt,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = ap.parse_args()
    from miles.sources.demo import generate

    print(f"# ingest benchmark · {platform.node()} · {platform.processor() or platform.machine()} · "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"{'rows':>8} {'videos':>7} {'gen s':>7} {'ingest s':>9} {'rows/s':>8} {'peak RSS MB':>12}")
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            videos = max(1, rows // 4)  # about four observations per video
            t = time.perf_counter()
            files = generate(Path(tmp) / "src", n_videos=videos, seed=0)
            gen = time.perf_counter() - t
            out = subprocess.run([sys.executable, "-c", CHILD, str(files.csv), str(Path(tmp) / "store")],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['read']:>8} {videos:>7} {gen:>7.1f} {r['seconds']:>9.1f} {r['read'] / r['seconds']:>8.0f} "
                  f"{r['peak_rss_mb']:>12.0f}")


if __name__ == "__main__":
    main()
