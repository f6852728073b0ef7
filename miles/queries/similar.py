"""Similar videos that broke out: FAISS search over the cached vectors, with fair evidence only.

    similar(store, video_id="demo_000042", k=10)                 # neighbours of a stored video
    similar(store, title="Wait for it... ramen hack", k=5, viral_only=True)

Fair evidence: a neighbour must be published before the query video (or ``before``) and have its final
outcome known by then; its views are the latest observed by then and its standing against its creator is
measured against the creator's history as of its own publishing (``miles.heads.history``). The query
itself and near-duplicates (cosine ≥ ``dup_threshold`` to the query or to a neighbour already kept, or
the same content hash) are dropped. With no earlier evidence the answer is an empty list.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from miles.errors import MilesError, NotFound
from miles.eval.duplicates import NEAR_DUPLICATE
from miles.heads.deployed import served_tables
from miles.heads.history import video_asof
from miles.heads.labels import LabelSpec
from miles.queries.cache import store_view, table_positions, table_vectors, vector_index
from miles.queries.encode import query_vectors
from miles.sources.parse import parse_time
from miles.store import Store

log = logging.getLogger(__name__)

FIELDS = ("video_id", "title", "creator_id", "published_at", "views", "velocity", "relative_to_creator", "viral",
          "similarity")


def evidence_table(store: Store, cutoff: datetime, spec: LabelSpec, views: bool = True) -> pd.DataFrame:
    """Videos whose final outcome was known at ``cutoff``, indexed by video_id: velocity, ``viral`` and
    ``relative_to_creator`` (velocity − the creator's prior as of publishing) as ``miles.heads.labels``
    defines them,
    ``views`` as last observed at the cutoff, title and content hash. Empty when nothing was known yet."""
    view = store_view(store)
    cut = pd.Timestamp(cutoff)
    out = _evidence(view, spec, cut)
    if views and len(out):
        out = out.assign(views=views_at(view, out.index, cut))
    return out


EVIDENCE_COLUMNS = ["platform", "creator_id", "published_at", "velocity", "viral", "relative_to_creator", "views",
                    "title", "content_hash"]


def _evidence(view, spec: LabelSpec, cut: pd.Timestamp) -> pd.DataFrame:
    """The evidence known at ``cut``, without views. A cutoff past everything the store knows (a draft for
    now or later) gives the same table every time, so that one is built once per store version."""
    out = view.outcomes(spec)
    last = max(out["outcome_known_at"].max(), out["published_at"].max()) if len(out) else cut
    return view.memo(("evidence", spec, "all" if cut > last else cut), lambda: _evidence_uncached(view, out, spec, cut))


def _evidence_uncached(view, out: pd.DataFrame, spec: LabelSpec, cut: pd.Timestamp) -> pd.DataFrame:
    out = out[out["final"] & (out["outcome_known_at"] <= cut) & (out["published_at"] < cut)].copy()
    cols = EVIDENCE_COLUMNS
    if out.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="video_id"))
    out["viral"] = out["viral"].astype(bool).to_numpy()  # the store's one label (miles.heads.labels)
    out["views"] = np.nan
    v = view.by_id()
    out["title"] = v["title"].reindex(out["video_id"]).to_numpy()
    out["content_hash"] = v["content_hash"].reindex(out["video_id"]).to_numpy()
    return out.set_index("video_id")[cols]


def views_at(view, video_ids, times) -> np.ndarray:
    """(n,) views of each video as last observed at its time (one time for all, or one each); NaN if none."""
    ids = list(video_ids)
    times = list(times) if isinstance(times, (list, tuple, pd.Series, pd.Index, np.ndarray)) else [times] * len(ids)
    return video_asof(view.snapshot_index(["views"]), pd.Series(ids, dtype=object), pd.Series(times),
                      ["views"])["views"].to_numpy()


def _cutoff(store: Store, video_id: str | None, before) -> tuple[datetime, str | None]:
    if video_id is None:
        return (parse_time(before) if before else datetime.now(timezone.utc)), None
    import pyarrow.compute as pc

    rows = store.read("videos", columns=["published_at", "content_hash"],
                      filter=pc.field("video_id") == video_id).to_pylist()
    if not rows:
        raise NotFound(f"video {video_id!r} is not in this store")
    return (parse_time(before) if before else rows[0]["published_at"]), rows[0]["content_hash"]


def similar(store: Store, video_id: str | None = None, title: str | None = None, thumbnail: bytes | None = None,
            k: int = 10, modality: str = "both", viral_only: bool = False, before: str | datetime | None = None,
            platform: str | None = None, spec: LabelSpec | None = None, dup_threshold: float = NEAR_DUPLICATE,
            vectors: dict[str, np.ndarray] | None = None, tables: dict[str, str] | None = None) -> list[dict]:
    """``vectors``: query vectors already encoded (by ``predict``), instead of a video id or a title;
    ``tables``: the tables to search ({"text": ..., "image": ...}; default: the served head's,
    ``served_tables``): a head's own when its vectors are given, so a query is compared only with vectors
    of the same encoder."""
    if modality not in ("text", "image", "both"):
        raise MilesError(f"modality must be text, image or both, got {modality!r}")
    if k < 1:
        raise MilesError(f"the number of similar videos must be at least 1, got {k}")
    spec = spec or LabelSpec()
    text_t, image_t = served_tables(store) if tables is None else (tables.get("text"), tables.get("image"))
    tables = {m: t for m, t in (("text", text_t), ("image", image_t)) if t and modality in (m, "both")}
    if not tables:
        raise MilesError(f"this store has no vectors for {modality} yet: they are made by the embedding step",
                         hint=f"run `miles embed --store {store}`")
    cutoff, exclude_hash = _cutoff(store, video_id, before)  # an unknown video is a NotFound here
    queries = dict(vectors) if vectors else query_vectors(store, tables, video_id, title, thumbnail)
    queries = {m: q for m, q in queries.items() if m in tables and q is not None}
    evidence = evidence_table(store, cutoff, spec, views=False)  # views only for the rows kept, below
    if evidence.empty or not queries:
        return []
    # Candidates: FAISS top hits per modality (oversampled: filters drop many), kept when they are fair
    # evidence; then scored exactly in every modality the query has, and fused by the mean. Every step
    # costs the number of candidates, not the size of the store.
    stored = {m: (table_positions(store, tables[m]), table_vectors(store, tables[m])[1]) for m in queries}
    hits: set[str] = set()
    for m in stored:
        idx = vector_index(store, tables[m])
        ids, _ = idx.search(queries[m][None], k=min(len(idx.ids), max(50 * k, 500)))
        hits.update(str(i) for i in ids[0])
    hits.discard(video_id)
    cand = np.array(sorted(hits), dtype=object)
    rows = evidence.index.get_indexer(cand)
    keep = rows >= 0
    if viral_only:
        keep[keep] = evidence["viral"].to_numpy()[rows[keep]]
    if platform:
        keep[keep] = evidence["platform"].to_numpy()[rows[keep]] == platform.lower()
    cand, ev = cand[keep], evidence.iloc[rows[keep]]
    if not len(cand):
        return []
    scores = []
    for m, (positions, vecs) in stored.items():
        at = positions.get_indexer(cand)
        sims = np.full(len(cand), np.nan)
        sims[at >= 0] = vecs[at[at >= 0]] @ queries[m]
        scores.append(sims)
    with np.errstate(all="ignore"):
        fused = np.nanmean(np.vstack(scores), axis=0)
    main_positions, main_vecs = next(iter(stored.values()))
    main_at = main_positions.get_indexer(cand)
    hashes = ev["content_hash"].to_numpy()
    kept: list[dict] = []
    kept_vecs: list[np.ndarray] = []
    seen_hashes = {exclude_hash} if exclude_hash else set()
    for i in np.argsort(-np.nan_to_num(fused, nan=-np.inf)):
        if not np.isfinite(fused[i]) or fused[i] >= dup_threshold:
            continue  # a near-copy of the query is no evidence
        if hashes[i] in seen_hashes:
            continue
        v = main_vecs[main_at[i]] if main_at[i] >= 0 else None
        if v is not None and any(float(v @ u) >= dup_threshold for u in kept_vecs):
            continue
        seen_hashes.add(hashes[i])
        if v is not None:
            kept_vecs.append(v)
        e = ev.iloc[i]
        kept.append({"video_id": str(cand[i]), "title": e["title"], "creator_id": e["creator_id"],
                     "published_at": e["published_at"].isoformat(), "views": None,
                     "velocity": round(float(e["velocity"]), 4),
                     "relative_to_creator": None if pd.isna(e["relative_to_creator"])
                     else round(float(e["relative_to_creator"]), 4),
                     "viral": bool(e["viral"]), "similarity": round(float(fused[i]), 4)})
        if len(kept) >= k:
            break
    seen = views_at(store_view(store), [r["video_id"] for r in kept], pd.Timestamp(cutoff))
    for row, views in zip(kept, seen):
        row["views"] = None if np.isnan(views) else int(views)
    return kept
