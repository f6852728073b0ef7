"""Similar videos that broke out: FAISS search over the cached vectors, with fair evidence only.

    similar(store, video_id="demo_000042", k=10)                 # neighbours of a stored video
    similar(store, title="Wait for it... ramen hack", k=5, viral_only=True)

Fair evidence: a neighbour must be published before the query video (or ``before``) and have its final
outcome known by then; the query itself and near-duplicates (cosine ≥ ``dup_threshold`` to the query or
to a neighbour already kept, or the same content hash) are dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from miles.heads.dataset import default_tables
from miles.heads.labels import LabelSpec, compute_outcomes
from miles.sources.parse import hashtags_in, parse_time
from miles.store import Store
from miles.store.embeddings import table_fingerprint
from miles.store.index import load_index, read_vectors
from miles.store.text import compose_text

log = logging.getLogger(__name__)

FIELDS = ("video_id", "title", "creator_id", "published_at", "views", "velocity", "relative_to_creator", "viral",
          "similarity")


_ENCODERS: dict[tuple, object] = {}
_OUTCOMES: dict[tuple, tuple] = {}


def store_encoder(store: Store, table: str):
    """The encoder that made ``table``, rebuilt by name and checked against the table's fingerprint.
    Loaded once per process (predict and similar are called many times with models loaded)."""
    from miles.embed.base import create_encoder

    fp = table_fingerprint(store, table)
    key = (fp["name"], fp["weights_sha256"])
    if key not in _ENCODERS:
        enc = create_encoder(fp["name"])
        mine = enc.fingerprint
        if (mine.name, mine.dim, mine.weights_sha256) != (fp["name"], fp["dim"], fp["weights_sha256"]):
            raise ValueError(f"{table} was made by {fp['name']} (weights {fp['weights_sha256'][:12]}), but this "
                             f"machine's {mine.name} has weights {mine.weights_sha256[:12]}: the vectors would not "
                             "be comparable")
        _ENCODERS[key] = enc
    return _ENCODERS[key]


def _outcomes(store: Store, spec: LabelSpec) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(videos, latest snapshot per video, outcomes), computed once per store version and label spec."""
    key = (str(store.path.resolve()), store.version("videos"),
           store.version("snapshots") if store.has("snapshots") else 0, spec)
    if key not in _OUTCOMES:
        videos = store.read("videos", columns=["video_id", "creator_id", "platform", "published_at", "title",
                                               "content_hash"]).to_pandas()
        snaps = store.read("snapshots").to_pandas()
        last = snaps.sort_values("observed_at").drop_duplicates("video_id", keep="last")[["video_id", "views"]]
        _OUTCOMES.clear()
        _OUTCOMES[key] = (videos, last, compute_outcomes(videos, snaps, spec))
    return _OUTCOMES[key]


def query_vectors(store: Store, tables: dict[str, str], video_id: str | None, title: str | None,
                  thumbnail: str | Path | None, timings: dict | None = None) -> dict[str, np.ndarray]:
    """One (d,) unit vector per modality that the query has (encode times added to ``timings``)."""
    import time

    timings = {} if timings is None else timings
    out: dict[str, np.ndarray] = {}
    if video_id is not None:
        for modality, table in tables.items():
            rows = store.read(table, columns=["vector"], filter=f"video_id = '{video_id.replace(chr(39), '')}'")
            if rows.num_rows:
                out[modality] = np.asarray(rows["vector"][0].as_py(), dtype=np.float32)
        if not out:
            raise ValueError(f"video {video_id!r} has no vectors in {sorted(tables.values())}: run `miles embed`")
        return out
    if title is None and thumbnail is None:
        raise ValueError("give --video-id, or --title (and optionally --thumbnail)")
    if title is not None and "text" in tables:
        enc = store_encoder(store, tables["text"])
        t = time.perf_counter()
        out["text"] = enc.encode_texts([compose_text(title, hashtags_in(title))])[0]
        timings["text_encode"] = time.perf_counter() - t
    if thumbnail is not None and "image" in tables:
        from miles.embed.reader import decode
        from miles.sources.images import read_thumbnail

        enc = store_encoder(store, tables["image"])
        t = time.perf_counter()
        pixels = decode(read_thumbnail(Path(thumbnail)), enc.preprocess)
        out["image"] = enc.encode_images(pixels[None])[0]
        timings["image_encode"] = time.perf_counter() - t
    return out


def evidence_table(store: Store, cutoff: datetime, spec: LabelSpec) -> pd.DataFrame:
    """Videos whose final outcome was known at ``cutoff``, with velocity, viral and relative_to_creator."""
    videos, last, out = _outcomes(store, spec)
    cut = pd.Timestamp(cutoff)
    out = out[out["final"] & (out["outcome_known_at"] <= cut) & (out["published_at"] < cut)].copy()
    if out.empty:
        return out
    labels = spec.fit(out).transform(out)
    out["viral"] = labels["viral"].astype(bool)
    out["relative_to_creator"] = out["velocity"] - out.groupby("creator_id")["velocity"].transform("median")
    out = out.merge(last, on="video_id", how="left")
    return out.merge(videos[["video_id", "title", "content_hash"]], on="video_id", how="left").set_index("video_id")


_VECTORS: dict[tuple, tuple] = {}
_INDEXES: dict[tuple, object] = {}


def _table_vectors(store: Store, table: str):
    key = (str(store.path.resolve()), table, store.version(table))
    if key not in _VECTORS:
        _VECTORS[key] = read_vectors(store, table)
    return _VECTORS[key]


def _index(store: Store, table: str):
    key = (str(store.path.resolve()), table, store.version(table))
    if key not in _INDEXES:
        _INDEXES[key] = load_index(store, table)
    return _INDEXES[key]


def similar(store: Store, video_id: str | None = None, title: str | None = None, thumbnail: str | Path | None = None,
            k: int = 10, modality: str = "both", viral_only: bool = False, before: str | datetime | None = None,
            platform: str | None = None, spec: LabelSpec | None = None, dup_threshold: float = 0.98,
            vectors: dict[str, np.ndarray] | None = None) -> list[dict]:
    """``vectors``: query vectors already encoded (by ``predict``), instead of a video id or a title."""
    if modality not in ("text", "image", "both"):
        raise ValueError(f"modality must be text, image or both, got {modality!r}")
    spec = spec or LabelSpec(age_hours=168.0)
    text_t, image_t = default_tables(store)
    tables = {m: t for m, t in (("text", text_t), ("image", image_t)) if t and modality in (m, "both")}
    if not tables:
        raise ValueError(f"store {store.path} has no embedding tables for {modality}: run `miles embed` first")
    queries = dict(vectors) if vectors else query_vectors(store, tables, video_id, title, thumbnail)
    queries = {m: q for m, q in queries.items() if m in tables}
    exclude_hash = None
    if video_id is not None:
        row = store.read("videos", columns=["published_at", "content_hash"],
                         filter=f"video_id = '{video_id.replace(chr(39), '')}'").to_pylist()
        cutoff = parse_time(before) if before else row[0]["published_at"]
        exclude_hash = row[0]["content_hash"]
    else:
        cutoff = parse_time(before) if before else datetime.now(timezone.utc)
    evidence = evidence_table(store, cutoff, spec)
    if platform:
        evidence = evidence[evidence["platform"] == platform.lower()]
    if viral_only:
        evidence = evidence[evidence["viral"]]
    allowed = set(evidence.index) - {video_id}
    if not allowed:
        return []
    # Candidates: FAISS top hits per modality (oversampled: filters drop many), scored exactly in every
    # modality the query has, then fused by the mean.
    stored = {m: _table_vectors(store, t) for m, t in tables.items() if m in queries}
    candidates: set[str] = set()
    for m in stored:
        idx = _index(store, tables[m])
        ids, _ = idx.search(queries[m][None], k=min(len(idx.ids), max(50 * k, 500)))
        candidates |= {i for i in ids[0] if i in allowed}
    if not candidates:
        return []
    cand = sorted(str(c) for c in candidates)
    scores = []
    for m, (ids, vecs) in stored.items():
        pos = pd.Series(np.arange(len(ids)), index=ids)
        rows = pos.reindex(cand)
        sims = np.full(len(cand), np.nan)
        ok = rows.notna().to_numpy()
        sims[ok] = vecs[rows[ok].to_numpy(dtype=int)] @ queries[m]
        scores.append(sims)
    fused = np.nanmean(np.vstack(scores), axis=0)
    main = next(iter(stored))
    main_pos = pd.Series(np.arange(len(stored[main][0])), index=stored[main][0])
    kept: list[dict] = []
    kept_vecs: list[np.ndarray] = []
    seen_hashes = {exclude_hash} if exclude_hash else set()
    for i in np.argsort(-fused):
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
                     "published_at": e["published_at"].isoformat(), "views": None if pd.isna(e["views"]) else int(e["views"]),
                     "velocity": round(float(e["velocity"]), 4),
                     "relative_to_creator": round(float(e["relative_to_creator"]), 4), "viral": bool(e["viral"]),
                     "similarity": round(float(fused[i]), 4)})
        if len(kept) >= k:
            break
    return kept
