"""The whole job on the built-in SYNTHETIC demo data: generate → ingest → embed → index → eval → train →
report.

``miles demo`` calls ``run_demo``. Each stage logs its wall time.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from miles.store import Store

log = logging.getLogger(__name__)


def run_demo(store_dir: str | Path = "demo-store", videos: int = 2000, seed: int = 0, progress: bool = True,
             moments: tuple[str, ...] = ("pre_upload", "early_6h")) -> Store:
    from miles.cli import format_table, human_bytes
    from miles.sources import ingest
    from miles.sources.demo import generate

    store = Store.open(store_dir)
    source_dir = store.path / "demo_source"
    timings: list[tuple[str, float]] = []

    t = time.perf_counter()
    files = generate(source_dir, n_videos=videos, seed=seed, progress=progress)
    timings.append(("generate", time.perf_counter() - t))

    t = time.perf_counter()
    summary = ingest([files.csv], store, progress=progress)
    timings.append(("ingest", time.perf_counter() - t))
    print(f"ingest: {summary.line()}")

    from miles.embed.job import EmbedConfig, embed
    from miles.store.index import build_indexes

    t = time.perf_counter()
    for report in embed(store, EmbedConfig(preset="offline", progress=progress)).values():
        print(f"embed: {report.line()}")
    timings.append(("embed", time.perf_counter() - t))

    t = time.perf_counter()
    for meta in build_indexes(store):
        print(f"index: {meta['table']}: {meta['kind']} over {meta['n']} vectors")
    timings.append(("index", time.perf_counter() - t))

    from miles.eval.pipeline import run_eval
    from miles.eval.runner import EvalConfig
    from miles.heads.train import train_heads

    t = time.perf_counter()
    report = store.path / "report.html"
    result = run_eval(store, EvalConfig(moments=moments, progress=progress), report=report,
                      json_path=store.path / "metrics.json")
    timings.append(("eval", time.perf_counter() - t))

    t = time.perf_counter()
    trained = train_heads(store, moments=moments)
    timings.append(("train", time.perf_counter() - t))

    print("\n" + format_table(result.table().query("split != 'random'").to_dict("records")))
    for g in result.gains:
        if g["features"] == "metadata+text+image" and g["split"] != "random":
            print(f"gain of embeddings, {g['head']} {g['moment']} {g['split']} {g['metric']}: {g['gain']:+.3f} "
                  f"[{g['ci_low']:+.3f}, {g['ci_high']:+.3f}]")
    print(f"trained {len(trained)} deployable heads into {store.path / 'heads'}")

    for stage, seconds in timings:
        log.info("stage %-9s %6.1f s", stage, seconds)
    print(f"\nstore {store.path} (SYNTHETIC demo data, seed {seed})")
    print(format_table(store.info(), {"bytes": human_bytes}))
    print(f"\nreport: {report}")
    return store
