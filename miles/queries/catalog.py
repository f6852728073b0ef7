"""What a dashboard or an API client asks of a store besides predictions: what it holds, one video, the
latest evaluation, and the heads deployed.

    info(store)                        # tables, counts, encoders, deployed heads with label spec and metrics
    video(store, "demo_000042", spec)  # the video, its snapshots over time, its outcome under the spec
    store_summary(store, spec)         # counts by platform, velocity distribution, recent writes, rejects
    latest_evaluation(store)           # the latest eval run per (head, moment, split, features)
    latest_gains(store)                # the paired gains that eval recorded

All reads; nothing here takes a path or SQL from a caller.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from miles.errors import NotFound
from miles.heads.deployed import deployed
from miles.heads.labels import LabelSpec
from miles.queries.cache import store_view
from miles.store import Store
from miles.store.embeddings import embedding_tables, table_fingerprint


def _latest_runs(store: Store) -> pd.DataFrame:
    """The latest ``miles eval`` run of each (head, moment, split, features)."""
    if not store.has("runs"):
        return pd.DataFrame()
    runs = store.read("runs", columns=["run_id", "created_at", "kind", "head", "moment", "split", "features",
                                       "n_test", "metrics"]).to_pandas()
    runs = runs[runs["kind"] == "eval"]
    return runs.sort_values("created_at").drop_duplicates(["head", "moment", "split", "features"], keep="last")


def latest_evaluation(store: Store) -> pd.DataFrame:
    """One row per (head, moment, split, features) of the latest ``miles eval``: metrics with intervals (its
    paired gains: ``latest_gains``)."""
    from miles.eval.pipeline import read_gain_name

    runs = _latest_runs(store)
    rows = []
    for r in runs.itertuples():
        for metric, m in json.loads(r.metrics).items():
            if read_gain_name(metric) is None:
                rows.append({"run_id": r.run_id, "head": r.head, "moment": r.moment, "split": r.split,
                             "features": r.features, "n_test": r.n_test, "metric": metric, **m})
    return pd.DataFrame(rows) if rows else runs


def latest_gains(store: Store) -> list[dict]:
    """The paired gains the latest ``miles eval`` recorded (each head over another, each variant over its
    metadata alone), as ``miles.eval.verdicts`` reads them; empty for runs recorded before gains were kept."""
    from miles.eval.pipeline import read_gain_name

    out = []
    for r in _latest_runs(store).itertuples():
        for name, m in json.loads(r.metrics).items():
            if (named := read_gain_name(name)) is not None:
                out.append({"head": r.head, "moment": r.moment, "split": r.split, "features": r.features,
                            "metric": named[0], "versus": named[1], "gain": m["value"], "ci_low": m["ci_low"],
                            "ci_high": m["ci_high"]})
    return out


def run_predictions(store: Store, run_id: str) -> pd.DataFrame:
    return store.read("predictions", columns=["video_id", "viral", "p_viral", "velocity", "velocity_pred"],
                      filter=pc.field("run_id") == run_id).to_pandas()


def info(store: Store) -> dict:
    encoders = {}
    for t in embedding_tables(store):
        fp = table_fingerprint(store, t)
        encoders[t] = {k: fp.get(k) for k in ("name", "modality", "dim", "weights_sha256", "preprocessing")}
    ev = latest_evaluation(store)
    heads = deployed(store)
    for h in heads:
        rows = ev[(ev["head"] == h["head"]) & (ev["moment"] == "pre_upload") & (ev["features"] == h["features"])] \
            if len(ev) else ev
        h["evaluation"] = {f"{r.split}.{r.metric}": {"value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high}
                           for r in rows.itertuples()} if len(rows) else {}
    return {"store": store.location.name, "tables": {r["table"]: r["rows"] for r in store.info()},
            "encoders": encoders, "heads": heads}


def video(store: Store, video_id: str, spec: LabelSpec) -> dict:
    """A stored video (no thumbnail bytes), its snapshots in time order and its outcome under ``spec``."""
    rows = store.read("videos", filter=pc.field("video_id") == video_id).to_pylist()
    if not rows:
        raise NotFound(f"no video {video_id!r} in this store")
    v = {k: val for k, val in rows[0].items() if k != "thumbnail"}
    v["has_thumbnail"] = rows[0]["thumbnail"] is not None
    snaps = store.read("snapshots", filter=pc.field("video_id") == video_id).to_pandas().sort_values("observed_at")
    view = store_view(store)
    out = view.outcomes(spec)
    mine = out[out["video_id"] == video_id]
    label = None
    if len(mine):
        m = mine.iloc[0]
        viral = bool(m["viral"]) if m["final"] else None  # the store's one label (miles.heads.labels)
        label = {"velocity": float(m["velocity"]), "final": bool(m["final"]), "age_hours": float(m["age_hours"]),
                 "outcome_known_at": m["outcome_known_at"].isoformat(), "viral": viral,
                 "creator_prior": None if pd.isna(m["creator_prior"]) else float(m["creator_prior"])}
    return {"video": v, "snapshots": snaps.to_dict("records"), "label": label}


def store_summary(store: Store, spec: LabelSpec, recent: int = 10) -> dict:
    view = store_view(store)
    videos = view.videos
    by_platform = videos.groupby(videos["platform"].fillna("unknown")).size().sort_values(ascending=False)
    out = view.outcomes(spec)
    final = out[out["final"]]["velocity"].to_numpy()
    hist, edges = np.histogram(final, bins=20) if len(final) else (np.array([]), np.array([]))
    writes = []
    for table in ("videos", "snapshots"):
        if store.has(table):
            for v in store.dataset(table).versions()[-recent:]:
                writes.append({"table": table, "version": v["version"], "at": pd.Timestamp(v["timestamp"]).isoformat()})
    rejects = store.read("rejects", columns=["source", "row", "video_id", "reason", "ingested_at"]).to_pandas()
    kinds = rejects.assign(kind=rejects["reason"].str.split(":").str[0].str.slice(0, 60))
    top = (kinds.groupby("kind").agg(n=("reason", "size"), example=("reason", "first"))
           .sort_values("n", ascending=False).head(20).reset_index()) if len(kinds) else kinds
    return {"videos": int(len(videos)), "snapshots": int(len(view.snapshots)),
            "by_platform": {str(k): int(n) for k, n in by_platform.items()},
            "velocity_histogram": {"counts": hist.tolist(), "edges": [float(e) for e in edges]},
            "with_outcome": int(len(final)),
            "recent_writes": sorted(writes, key=lambda w: w["at"], reverse=True)[:recent],
            "rejects": {"total": int(len(rejects)), "by_reason": top.to_dict("records")}}
