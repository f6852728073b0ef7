"""How the title job batches texts: sorted by characters within each commit group (256 titles at batch 64)
against sorted by tokens within windows of 16 groups (4,096), side by side in one process.

    python benchmarks/bench_text_batching.py                                   # demo titles
    python benchmarks/bench_text_batching.py --source titles.csv --n 4096     # any CSV `miles ingest` reads

For each way, ``padding`` is the tokens the model runs (every text padded to its batch's longest) over
the tokens the texts have: 1.0 is no padding at all. Then ``miles embed --modality text`` runs on a fresh
copy of the store for each way, alternating, ``--repeats`` times, and prints its rate.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, help="a CSV to ingest (default: demo titles)")
    ap.add_argument("--n", type=int, default=4096, help="titles to embed per run")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    import numpy as np

    from miles.embed.base import Encoder
    from miles.embed.job import EmbedConfig, embed
    from miles.embed.mapper import Mapper
    from miles.embed.reader import fetch, plan
    from miles.embed.registry import create_encoder
    from miles.sources import ingest
    from miles.sources.demo import generate
    from miles.store import Store

    class ByCharacters:
        """The same encoder, but reporting each text's cost in characters."""

        def __init__(self, enc):
            self.enc = enc

        def __getattr__(self, name):
            return getattr(self.enc, name)

        def text_lengths(self, texts):
            return Encoder.text_lengths(self, texts)

    enc = create_encoder("minilm", device="cpu")
    enc.encode_texts(["warm up"] * 8)
    ways = [("characters", 1, ByCharacters(enc)), ("tokens", 16, enc)]
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source or generate(Path(tmp) / "src", n_videos=args.n, seed=0).csv
        store = Store.open(Path(tmp) / "store")
        ingest([source], store, progress=False)
        ids = plan(store, "emb_text_minilm", "text", limit=args.n).video_ids
        rows = fetch(store, ids, ["title", "hashtags"])
        texts = Mapper(enc).texts(rows)
        tokens = np.array(enc.text_lengths(texts))

        print(f"# text batching · {platform.node()} · {time.strftime('%Y-%m-%d')} · "
              f"{source.name if args.source else 'demo titles'} · {len(texts)} titles · batch {args.batch_size} · "
              f"tokens per title p50 {np.median(tokens):.0f}, p95 {np.percentile(tokens, 95):.0f}, max {tokens.max()}")
        print(f"{'sorted by':>10} {'window':>7} {'padding':>8} {'titles/s':>9} {'encode s':>9}")
        group = args.batch_size * EmbedConfig.commit_every
        padding = {}
        for name, sort_window, e in ways:  # the batches the job makes, window by window (Mapper.order)
            window, ran = group * sort_window, 0
            for s in range(0, len(texts), window):
                idx = Mapper(e, batch_size=args.batch_size).order(texts[s:s + window])
                for b in range(0, len(idx), args.batch_size):
                    batch = tokens[[s + i for i in idx[b:b + args.batch_size]]]
                    ran += batch.max() * len(batch)
            padding[name] = ran / tokens.sum()
        for r in range(args.repeats):
            for i, (name, sort_window, e) in enumerate(ways):
                copy = Store.open(shutil.copytree(store.path, Path(tmp) / f"copy-{r}-{i}"))
                rep = embed(copy, EmbedConfig(device="cpu", progress=False, modalities=("text",), limit=args.n,
                                              batch_size=args.batch_size, sort_window=sort_window), {"text": e})["text"]
                print(f"{name:>10} {group * sort_window:>7} {padding[name]:>8.2f} {rep.rate:>9.0f} "
                      f"{rep.seconds['encode']:>9.1f}", flush=True)
                shutil.rmtree(copy.path)


if __name__ == "__main__":
    main()
