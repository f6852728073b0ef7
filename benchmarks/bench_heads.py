"""Retrain time of each head from cached vectors, beside the time to re-encode the same rows.

    python benchmarks/bench_heads.py --store demo-store --rows 2000 20000 100000

Feature rows come from the store (real cached embeddings of the demo set); larger sizes resample them
with replacement, which keeps the shapes and costs honest (values do not change the cost of a fit). The
re-encode time is the row count over the end-to-end embedding rates measured on the same store in the
same run (titles and thumbnails, ``miles embed`` on a fresh copy of 256 videos).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def encode_rates(store, n: int = 256) -> tuple[float, float]:
    """End-to-end titles/s and thumbnails/s of ``miles embed`` on n videos copied into a fresh store."""
    from miles.embed.job import EmbedConfig, embed
    from miles.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        fresh = Store.open(Path(tmp) / "s")
        rows = store.read("videos").slice(0, n)
        fresh.upsert("videos", rows)
        reps = embed(fresh, EmbedConfig(progress=False))
        return reps["text"].rate, reps["image"].rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="demo-store")
    ap.add_argument("--rows", type=int, nargs="+", default=[2000, 20000, 100000])
    ap.add_argument("--moment", default="pre_upload")
    args = ap.parse_args()
    from miles.heads.dataset import build_features
    from miles.heads.models import create_head
    from miles.store import Store

    store = Store.open(args.store, must_exist=True)
    fs = build_features(store, args.moment)
    y_all = fs.spec.fit(fs.frame).transform(fs.frame)["viral"].to_numpy()
    v_all = fs.frame["velocity"].to_numpy()
    blocks = ["metadata", "text", "image"]
    X_all = fs.X(blocks)
    sizes = {"metadata": len(fs.scalar_names), "text": fs.text.shape[1], "image": fs.image.shape[1]}
    texts_all = fs.texts
    text_rate, image_rate = encode_rates(store)
    print(f"# heads benchmark · {platform.node()} · {platform.machine()} · {time.strftime('%Y-%m-%d')} · "
          f"source {len(fs)} demo rows · X {X_all.shape[1]} columns")
    print(f"# measured encode rates: {text_rate:.0f} titles/s, {image_rate:.0f} thumbnails/s (end to end, CPU)")
    print(f"{'rows':>7} {'head':<14} {'fit s':>8} {'re-encode s':>12} {'ratio':>8}")
    rng = np.random.default_rng(0)
    for n in args.rows:
        idx = np.sort(rng.integers(0, len(fs), n)) if n != len(fs) else np.arange(n)
        X, y, v, texts = X_all[idx], y_all[idx], v_all[idx], texts_all[idx]
        reencode = n / text_rate + n / image_rate
        for head in ("baseline", "creator_prior", "lightgbm", "mlp"):
            t = time.perf_counter()
            if head == "baseline":
                create_head("baseline", task="viral").fit(texts, y)
                create_head("baseline", task="velocity").fit(texts, v)
            elif head == "creator_prior":
                col = fs.scalar_names.index("creator_prior")
                create_head(head, task="viral", prior_column=col).fit(X, y)
                create_head(head, task="velocity", prior_column=col).fit(X, v)
            elif head == "lightgbm":
                create_head(head, task="viral", block_sizes=sizes).fit(X, y)
                create_head(head, task="velocity", block_sizes=sizes).fit(X, v)
            else:
                create_head(head, task="viral", block_sizes=sizes).fit(X, y, y_aux=v)
            fit = time.perf_counter() - t
            print(f"{n:>7} {head:<14} {fit:>8.2f} {reencode:>12.0f} {reencode / fit:>7.0f}x")


if __name__ == "__main__":
    main()
