"""The whole job on the built-in SYNTHETIC demo data: generate → ingest → embed → index → eval → train →
report.

``miles demo`` calls ``run_demo`` and prints what it returns. Each stage's wall time is measured.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from miles.store import Store

log = logging.getLogger(__name__)


@dataclass
class DemoResult:
    store: Store
    seed: int
    lines: list[str] = field(default_factory=list)  # one per stage: what it did
    eval: object = None  # EvalResult
    trained: list[dict] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)
    report: Path | None = None
    hard: bool = False  # the harder synthetic setting (miles.sources.demo.HARD)


def run_demo(store_dir: str | Path = "demo-store", videos: int = 2000, seed: int = 0, progress: bool = True,
             moments: tuple[str, ...] = ("pre_upload", "early_6h"), hard: bool = False) -> DemoResult:

    from miles.store.lock import writer_lock

    store = Store.open(store_dir)
    with writer_lock(store, "demo"):
        return _run(store, videos, seed, progress, moments, hard)


def _run(store: Store, videos: int, seed: int, progress: bool, moments: tuple[str, ...], hard: bool = False
         ) -> DemoResult:
    from miles.embed.job import EmbedConfig, embed
    from miles.eval.pipeline import run_eval
    from miles.eval.runner import EvalConfig
    from miles.heads.train import train_heads
    from miles.sources import ingest
    from miles.sources.demo import generate
    from miles.store.index import build_indexes

    out = DemoResult(store, seed, report=store.local_dir / "report.html", hard=hard)

    def stage(name: str, fn):
        t = time.perf_counter()
        value = fn()
        out.timings.append((name, time.perf_counter() - t))
        log.info("stage %-9s %6.1f s", name, out.timings[-1][1])
        return value

    files = stage("generate", lambda: generate(store.local_dir / "demo_source", n_videos=videos, seed=seed,
                                               progress=progress, hard=hard))
    summary = stage("ingest", lambda: ingest([files.csv], store, progress=progress))
    out.lines.append(f"ingest: {summary.line()}")
    reports = stage("embed", lambda: embed(store, EmbedConfig(preset="offline", progress=progress)))
    out.lines += [f"embed: {r.line()}" for r in reports.values()]
    metas = stage("index", lambda: build_indexes(store))
    out.lines += [f"index: {m['table']}: {m['kind']} over {m['n']} vectors" for m in metas]
    out.eval = stage("eval", lambda: run_eval(store, EvalConfig(moments=moments, progress=progress),
                                              report=out.report, json_path=store.local_dir / "metrics.json"))
    out.trained = stage("train", lambda: train_heads(store, moments=moments))
    return out
