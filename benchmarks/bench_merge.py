"""What a chunk's merge costs as the embedding table grows: ``Store.merge`` of one chunk of new vectors into
tables of increasing size, the way the Ray engine's driver merges each staged chunk.

    python benchmarks/bench_merge.py --sizes 0 250000 500000 1000000 --rows 50000

For each size a fresh table of that many random 384-d vectors is written (untimed) with the embedding
schema, in fragments of 50,000 rows as a run of chunks leaves it; then ``--rows`` new vectors are merged
into it (timed, ``--repeats`` times, each into the table the last one left) and, for comparison, the same
rows appended without the upsert. Peak memory is this process's, from ``ru_maxrss`` (it only rises).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from datetime import date

import numpy as np
import pyarrow as pa

from miles.store import Store
from miles.store.embeddings import embedding_schema

FINGERPRINT = json.dumps({"name": "bench", "modality": "text", "dim": 384})


def vectors(ids: range, dim: int, rng: np.random.Generator, schema: pa.Schema) -> pa.Table:
    v = rng.standard_normal((len(ids), dim), dtype=np.float32)
    return pa.table({
        "video_id": pa.array([f"v{i:09d}" for i in ids]),
        "content_hash": pa.array([f"h{i}" for i in ids]),
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), dim),
        "empty_text": pa.array(np.zeros(len(ids), dtype=bool)),
    }).cast(schema)


def measure(size: int, rows: int, repeats: int, dim: int, fragment: int) -> dict:
    rng = np.random.default_rng(size)
    schema = embedding_schema(dim, FINGERPRINT, with_empty_flag=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        tbl = store.create("emb_bench", schema)
        for start in range(0, size, fragment):
            tbl.add(vectors(range(start, min(size, start + fragment)), dim, rng, schema))
        merges, appends = [], []
        top = size
        for _ in range(repeats):
            chunk = vectors(range(top, top + rows), dim, rng, schema)
            t = time.perf_counter()
            store.merge("emb_bench", chunk, ["video_id"])
            merges.append(time.perf_counter() - t)
            top += rows
        for _ in range(repeats):
            chunk = vectors(range(top, top + rows), dim, rng, schema)
            t = time.perf_counter()
            store.table("emb_bench").add(chunk)
            appends.append(time.perf_counter() - t)
            top += rows
        assert store.count("emb_bench") == top
    return {"size": size, "merge": min(merges), "merge_max": max(merges), "append": min(appends)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[0, 250_000, 500_000, 1_000_000])
    ap.add_argument("--rows", type=int, default=50_000, help="vectors merged at a time (the engine's --chunk)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    print(f"# merging {args.rows:,} new {args.dim}-d vectors into an embedding table · {platform.machine()} · "
          f"{date.today()} · best of {args.repeats}")
    print(f"{'table rows':>12} {'merge s':>9} {'worst s':>9} {'append s':>9} {'merge/append':>13} {'peak MiB':>9}")
    for size in args.sizes:
        r = measure(size, args.rows, args.repeats, args.dim, fragment=50_000)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>12,} {r['merge']:>9.2f} {r['merge_max']:>9.2f} {r['append']:>9.2f} "
              f"{r['merge'] / r['append']:>12.1f}x {peak:>9,.0f}", flush=True)


if __name__ == "__main__":
    main()
