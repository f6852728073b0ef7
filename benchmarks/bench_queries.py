"""Query-side numbers: predict latency by stage, similar-search latency and recall, SQL over 1M rows.

    python benchmarks/bench_queries.py --store demo-store        # a demo store with trained heads

1. ``predict`` for one draft, models loaded (a warm-up call first), 30 drafts: p50 and p95 per stage.
2. Vector search at 20k and 1M vectors (synthetic, clustered, 384-d): the index ``miles index`` builds
   (exact up to 1M, IVF above: forced here at 1M to show both) against brute-force numpy: latency per
   query and recall@10.
3. A filter-and-aggregate over a 1M-row Lance table: DuckDB scanning the store in place beside loading
   the table into pandas and doing the same there.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa


def pct(xs, q):
    return float(np.percentile(np.asarray(xs) * 1000, q))


def bench_predict(store_dir: str, n: int = 30) -> None:
    from miles.queries.predict import predict
    from miles.store import Store

    store = Store.open(store_dir, must_exist=True)
    thumbs = sorted((store.local_dir / "demo_source" / "thumbnails").glob("*.jpg"))[:n]
    hooks = ["Wait for it... {}", "My {} routine from this morning", "I tried {} for 30 days", "{} update"]
    things = ["ramen hack", "leg day", "desk setup", "corgi bath", "budget", "room makeover"]
    thumbs = [p.read_bytes() for p in thumbs]
    predict(store, title="warm up", thumbnail=thumbs[0], creator_id="creator_0001")
    stages: dict[str, list[float]] = {}
    totals = []
    for i in range(n):
        t = time.perf_counter()
        out = predict(store, title=hooks[i % 4].format(things[i % 6]), thumbnail=thumbs[i % len(thumbs)],
                      creator_id=f"creator_{i % 50:04d}", duration=20 + i)
        totals.append(time.perf_counter() - t)
        for k, v in out["timings_ms"].items():
            stages.setdefault(k, []).append(v / 1000)
    print(f"\n## predict, one draft, models loaded ({n} drafts, lightgbm head, CPU)")
    print(f"{'stage':<14} {'p50 ms':>8} {'p95 ms':>8}")
    for k, v in stages.items():
        print(f"{k:<14} {pct(v, 50):>8.1f} {pct(v, 95):>8.1f}")
    print(f"{'total':<14} {pct(totals, 50):>8.1f} {pct(totals, 95):>8.1f}")


def clustered(n: int, d: int = 384, centres: int = 5000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, d)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + rng.normal(scale=0.9, size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def bench_search(sizes=(20_000, 1_000_000), queries: int = 200) -> None:
    from miles.store import Store
    from miles.store.embeddings import embedding_schema
    from miles.store.index import build_index, load_index, recall_at_k

    print("\n## vector search (synthetic clustered 384-d unit vectors, k = 10)")
    print(f"{'vectors':>9} {'index':<9} {'build s':>8} {'ms/query':>9} {'numpy ms/query':>15} {'recall@10':>10}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp) / "s")
            x = clustered(n)
            store.create("emb_text_bench", embedding_schema(384, '{"name": "bench", "dim": 384}'))
            tbl = store.table("emb_text_bench")
            for start in range(0, n, 200_000):
                part = x[start:start + 200_000]
                ids = [f"v{i}" for i in range(start, start + len(part))]
                tbl.add(pa.table({"video_id": ids, "content_hash": ids,
                                  "vector": pa.FixedSizeListArray.from_arrays(pa.array(part.reshape(-1)), 384)}))
            q = x[np.random.default_rng(1).choice(n, queries, replace=False)] + 0.01
            q /= np.linalg.norm(q, axis=1, keepdims=True)
            exact: list[list[str]] = []
            t = time.perf_counter()
            for i in range(0, queries, 20):  # brute force, 20 queries at a time: (20, n) scores
                exact += [[f"v{r}" for r in row] for row in np.argsort(-(q[i:i + 20] @ x.T), axis=1)[:, :10]]
            numpy_ms = (time.perf_counter() - t) / queries * 1000
            kinds = [("flat", 10**9)] + ([("ivf_flat", 0)] if n >= 1_000_000 else [])
            for kind, exact_max in kinds:
                t = time.perf_counter()
                build_index(store, "emb_text_bench", exact_max=exact_max)
                build = time.perf_counter() - t
                idx = load_index(store, "emb_text_bench")
                idx.search(q[:1], k=10)
                t = time.perf_counter()
                got = [idx.search(q[i:i + 1], k=10)[0][0] for i in range(queries)]
                ms = (time.perf_counter() - t) / queries * 1000
                print(f"{n:>9} {kind:<9} {build:>8.1f} {ms:>9.2f} {numpy_ms:>15.2f} {recall_at_k(got, exact):>10.3f}")


def bench_sql(n: int = 1_000_000) -> None:
    import duckdb

    from miles.store import Store

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "s")
        table = pa.table({"video_id": [f"v{i}" for i in range(n)],
                          "platform": rng.choice(["youtube", "tiktok", "reels"], n),
                          "creator_id": [f"c{i}" for i in rng.integers(0, 50_000, n)],
                          "views": rng.lognormal(8, 2, n).astype(np.int64),
                          "likes": rng.lognormal(5, 2, n).astype(np.int64)})
        store.db.create_table("bench", data=table)
        query = ("SELECT platform, count(*) AS n, avg(views) AS mean_views, sum(likes) AS likes FROM bench "
                 "WHERE views > 10000 GROUP BY platform ORDER BY platform")
        con = duckdb.connect()
        con.register("bench", store.dataset("bench"))
        con.sql(query).fetchall()
        t = time.perf_counter()
        for _ in range(5):
            got = con.sql(query).fetchall()
        duck = (time.perf_counter() - t) / 5
        t = time.perf_counter()
        for _ in range(5):
            df = store.dataset("bench").to_table().to_pandas()
            g = df[df["views"] > 10000].groupby("platform").agg(n=("views", "size"), mean_views=("views", "mean"),
                                                                likes=("likes", "sum"))
        pandas_s = (time.perf_counter() - t) / 5
        assert [r[1] for r in got] == g["n"].tolist()
        print(f"\n## SQL filter-and-aggregate over {n:,} rows (same answer checked)")
        print(f"{'engine':<34} {'seconds':>8}")
        print(f"{'DuckDB over the Lance table':<34} {duck:>8.3f}")
        print(f"{'load into pandas, then pandas':<34} {pandas_s:>8.3f}")
        print(f"{'ratio':<34} {pandas_s / duck:>7.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="demo-store")
    ap.add_argument("--skip", nargs="*", default=[], choices=["predict", "search", "sql"])
    args = ap.parse_args()
    print(f"# queries benchmark · {platform.machine()} · {__import__('os').cpu_count()} cores · {time.strftime('%Y-%m-%d')}")
    if "predict" not in args.skip:
        bench_predict(args.store)
    if "search" not in args.skip:
        bench_search()
    if "sql" not in args.skip:
        bench_sql()


if __name__ == "__main__":
    main()
