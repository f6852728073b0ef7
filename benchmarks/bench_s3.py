"""A store on a local folder vs on S3 (moto's server, its own process on 127.0.0.1): throughput and latency.

    python benchmarks/bench_s3.py --vectors 100000 --videos 2000 --demo 300

Writes and reads a table of random 384-d vectors (Lance, whole-table), ingests demo videos with
thumbnails (``miles ingest``'s path), asks a table's version, builds and fetches a FAISS index, runs the
demo into a store and answers ``predict`` with the models loaded. moto
keeps objects in its own Python process: these numbers are a floor for the object-store path on this
machine (request overheads, extra copies), not a measure of a real S3 service.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ALLOW_HTTP="true", AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="miles-bench")
    return proc, endpoint


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(store_uri: str, vectors: pa.Table, csv: Path, demo: int = 0) -> dict[str, float]:
    import lance

    from miles.sources import ingest
    from miles.store import Store
    from miles.store.embeddings import embedding_schema
    from miles.store.index import build_index, load_index

    store = Store(store_uri)
    out: dict[str, float] = {}
    mb = vectors.nbytes / 2**20
    uri, opts = store.location.table_uri("emb_bench"), store.location.storage_options
    s, _ = timed(lambda: lance.write_dataset(vectors, uri, schema=embedding_schema(384, "{}"), storage_options=opts))
    out["write vectors MB/s"] = mb / s
    s, _ = timed(lambda: store.dataset("emb_bench").to_table())
    out["read vectors MB/s"] = mb / s
    from miles.store import location

    lat, keep = [], location.REMOTE_VERSION_SECONDS
    location.REMOTE_VERSION_SECONDS = 0.0  # what asking costs (on S3 the answer is kept for a second)
    for _ in range(30):
        t, _ = timed(lambda: store.version("emb_bench"))
        lat.append(t * 1000)
    location.REMOTE_VERSION_SECONDS = keep
    out["version(), asked, p50 ms"] = statistics.median(lat)
    s, _ = timed(lambda: ingest([csv], store, progress=False))
    out["ingest s"] = s
    s, _ = timed(lambda: build_index(store, "emb_bench"))
    out["build + publish index s"] = s
    s, _ = timed(lambda: load_index(store, "emb_bench", rebuild_stale=False))
    out["load index (cold cache) s"] = s
    s, _ = timed(lambda: load_index(store, "emb_bench", rebuild_stale=False))
    out["load index (cached) s"] = s
    if demo:
        out.update(warm_predict(store_uri + "-demo", demo))
    return out


def warm_predict(uri: str, videos: int, n: int = 30) -> dict[str, float]:
    """``miles demo`` into the store, then ``predict`` on drafts with the models loaded (p50 of n)."""
    from miles.pipeline import run_demo
    from miles.queries.predict import predict

    store = run_demo(uri, videos=videos, seed=0, progress=False, moments=("pre_upload",)).store
    thumbs = [p.read_bytes() for p in sorted((store.local_dir / "demo_source" / "thumbnails").glob("*.jpg"))[:n]]
    predict(store, title="warm up", thumbnail=thumbs[0], creator_id="creator_0001")
    times = []
    for i in range(n):
        t = time.perf_counter()
        predict(store, title=f"Wait for it... ramen hack {i}", thumbnail=thumbs[i % len(thumbs)],
                creator_id=f"creator_{i % 20:04d}")
        times.append((time.perf_counter() - t) * 1000)
    return {"warm predict p50 ms": statistics.median(times)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", type=int, default=200_000)
    ap.add_argument("--videos", type=int, default=2000)
    ap.add_argument("--demo", type=int, default=300, help="videos of a demo store for warm predict (0: skip)")
    args = ap.parse_args()
    from miles.sources.demo import generate

    rng = np.random.default_rng(0)
    v = rng.normal(size=(args.vectors, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    vectors = pa.table({"video_id": [f"v{i}" for i in range(args.vectors)], "content_hash": ["h"] * args.vectors,
                        "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), 384)})
    proc, _ = start_moto()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["MILES_CACHE_DIR"] = str(Path(tmp) / "cache")
            csv = generate(Path(tmp) / "src", n_videos=args.videos, seed=0).csv
            local = run(str(Path(tmp) / "local"), vectors, csv, args.demo)
            remote = run("s3://miles-bench/miles", vectors, csv, args.demo)
    finally:
        proc.terminate()
    print(f"## Local folder vs S3 (moto) — {date.today()}, this machine, "
          f"{os.cpu_count()} cores; {args.vectors:,} vectors of 384-d ({vectors.nbytes / 2**20:.0f} MB), "
          f"{args.videos:,} demo videos\n")
    print(f"| {'measure':<28} | {'local':>9} | {'s3 (moto)':>9} | {'s3 / local':>10} |")
    print(f"|{'-' * 30}|{'-' * 11}|{'-' * 11}|{'-' * 12}|")
    for key in local:
        print(f"| {key:<28} | {local[key]:>9.2f} | {remote[key]:>9.2f} | {remote[key] / local[key]:>9.2f}x |")


if __name__ == "__main__":
    main()
