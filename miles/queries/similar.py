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
from miles.heads.dataset import default_tables
from miles.heads.history import video_asof
from miles.heads.labels import LabelSpec
from miles.queries.cache import store_view, table_vectors, vector_index
from miles.queries.encode import query_vectors
from miles.sources.parse import parse_time
from miles.store import Store

log = logging.getLogger(__name__)

FIELDS = ("video_id", "title", "creator_id", "published_at", "views", "velocity", "relative_to_creator", "viral",
          "similarity")


def evidence_table(store: Store, cutoff: datetime, spec: LabelSpec, views: bool = True) -> pd.DataFrame:
    """Videos whose final outcome was known at ``cutoff``, indexed by video_id: velocity, ``viral`` (within
    these videos' cohorts), ``relative_to_creator`` (velocity − the creator's prior as of publishing),
    ``views`` as last observed at the cutoff, title and content hash. Empty when nothing was known yet."""
    view = store_view(store)
    cut = pd.Timestamp(cutoff)
    out = _evidence(view, spec, cut)
    if views and len(out):
        out = out.assign(views=_views_at(view, out.index, cut))
    return out


EVIDENCE_COLUMNS = ["platform", "creator_id", "published_at", "velocity", "viral", "relative_to_creator", "views",
                    "title", "content_hash"]


def _evidence(view, spec: LabelSpec, cut: pd.Timestamp) -> pd.DataFrame:
    """The evidence known at ``cut``, without views. A cutoff past everything the store knows (a draft for
    now or later) gives the same table every time, so that one is built once per store version."""
    out = view.outcomes(spec)
    last = max(out["outcome_known_at"].max(), out["published_at"].max()) if len(out) else cut
    key = ("evidence", spec, "all" if cut > last else cut)
    cache = view._cache
    if key not in cache:
        if sum(1 for k in cache if isinstance(k, tuple)) >= 16:
            cache.pop(next(k for k in cache if isinstance(k, tuple)))
        cache[key] = _evidence_uncached(view, out, spec, cut)
    return cache[key]


def _evidence_uncached(view, out: pd.DataFrame, spec: LabelSpec, cut: pd.Timestamp) -> pd.DataFrame:
    out = out[out["final"] & (out["outcome_known_at"] <= cut) & (out["published_at"] < cut)].copy()
    cols = EVIDENCE_COLUMNS
    if out.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="video_id"))
    out["viral"] = spec.fit(out).transform(out)["viral"].astype(bool).to_numpy()
    out["relative_to_creator"] = out["velocity"] - out["creator_prior"]
    out["views"] = np.nan
    v = view.by_id()
    out["title"] = v["title"].reindex(out["video_id"]).to_numpy()
    out["content_hash"] = v["content_hash"].reindex(out["video_id"]).to_numpy()
    return out.set_index("video_id")[cols]


def _views_at(view, video_ids, cut) -> np.ndarray:
    return video_asof(view.snapshot_index(["views"]), list(video_ids), [cut] * len(video_ids), ["views"])["views"].to_numpy()


def _cutoff(store: Store, video_id: str | None, before) -> tuple[datetime, str | None]:
    if video_id is None:
        return (parse_time(before) if before else datetime.now(timezone.utc)), None
    import pyarrow.compute as pc

    rows = store.read("videos", columns=["published_at", "content_hash"],
                      filter=pc.field("video_id") == video_id).to_pylist()
    if not rows:
        raise NotFound(f"video {video_id!r} is not in {store.path}")
    return (parse_time(before) if before else rows[0]["published_at"]), rows[0]["content_hash"]


def similar(store: Store, video_id: str | None = None, title: str | None = None, thumbnail: bytes | None = None,
            k: int = 10, modality: str = "both", viral_only: bool = False, before: str | datetime | None = None,
            platform: str | None = None, spec: LabelSpec | None = None, dup_threshold: float = 0.98,
            vectors: dict[str, np.ndarray] | None = None) -> list[dict]:
    """``vectors``: query vectors already encoded (by ``predict``), instead of a video id or a title."""
    if modality not in ("text", "image", "both"):
        raise MilesError(f"modality must be text, image or both, got {modality!r}")
    if k < 1:
        raise MilesError(f"-k must be at least 1, got {k}")
    spec = spec or LabelSpec()
    text_t, image_t = default_tables(store)
    tables = {m: t for m, t in (("text", text_t), ("image", image_t)) if t and modality in (m, "both")}
    if not tables:
        raise MilesError(f"store {store.path} has no embedding tables for {modality}: run "
                         f"`miles embed --store {store.path}` first")
    cutoff, exclude_hash = _cutoff(store, video_id, before)  # an unknown video is a NotFound here
    queries = dict(vectors) if vectors else query_vectors(store, tables, video_id, title, thumbnail)
    queries = {m: q for m, q in queries.items() if m in tables and q is not None}
    evidence = evidence_table(store, cutoff, spec, views=False)  # views only for the rows kept, below
    if platform:
        evidence = evidence[evidence["platform"] == platform.lower()]
    if viral_only:
        evidence = evidence[evidence["viral"]]
    allowed = set(evidence.index) - {video_id}
    if not allowed or not queries:
        return []
    # Candidates: FAISS top hits per modality (oversampled: filters drop many), scored exactly in every
    # modality the query has, then fused by the mean.
    stored = {m: table_vectors(store, tables[m]) for m in queries}
    candidates: set[str] = set()
    for m in stored:
        idx = vector_index(store, tables[m])
        ids, _ = idx.search(queries[m][None], k=min(len(idx.ids), max(50 * k, 500)))
        candidates |= {i for i in ids[0] if i in allowed}
    if not candidates:
        return []
    cand = sorted(str(c) for c in candidates)
    scores = []
    for m, (ids, vecs) in stored.items():
        rows = pd.Series(np.arange(len(ids)), index=ids).reindex(cand)
        sims = np.full(len(cand), np.nan)
        ok = rows.notna().to_numpy()
        sims[ok] = vecs[rows[ok].to_numpy(dtype=int)] @ queries[m]
        scores.append(sims)
    with np.errstate(all="ignore"):
        fused = np.nanmean(np.vstack(scores), axis=0)
    main = next(iter(stored))
    main_pos = pd.Series(np.arange(len(stored[main][0])), index=stored[main][0])
    kept: list[dict] = []
    kept_vecs: list[np.ndarray] = []
    seen_hashes = {exclude_hash} if exclude_hash else set()
    for i in np.argsort(-np.nan_to_num(fused, nan=-np.inf)):
        vid = cand[i]
        if not np.isfinite(fused[i]) or fused[i] >= dup_threshold:
            continue  # a near-copy of the query is no evidence
        e = evidence.loc[vid]
        if e["content_hash"] in seen_hashes:
            continue
        v = stored[main][1][int(main_pos[vid])] if vid in main_pos.index else None
        if v is not None and any(float(v @ u) >= dup_threshold for u in kept_vecs):
            continue
        seen_hashes.add(e["content_hash"])
        if v is not None:
            kept_vecs.append(v)
        kept.append({"video_id": vid, "title": e["title"], "creator_id": e["creator_id"],
                     "published_at": e["published_at"].isoformat(), "views": None,
                     "velocity": round(float(e["velocity"]), 4),
                     "relative_to_creator": None if pd.isna(e["relative_to_creator"])
                     else round(float(e["relative_to_creator"]), 4),
                     "viral": bool(e["viral"]), "similarity": round(float(fused[i]), 4)})
        if len(kept) >= k:
            break
    seen = _views_at(store_view(store), [r["video_id"] for r in kept], pd.Timestamp(cutoff))
    for row, views in zip(kept, seen):
        row["views"] = None if np.isnan(views) else int(views)
    return kept
