"""First-seen content: ``videos`` keeps a video's title, hashtags and thumbnail as first observed.

    stored = stored_content(store, ids)          # the stored rows of a batch's videos, one filtered read
    merged = first_seen(observations, stored)    # pure: the rows to upsert and the later versions
    store.upsert("video_versions", merged.versions, update=False)
    store.upsert("videos", merged.videos)

A title or hashtags edited after a video took off ("… | 10M VIEWS"), or a new thumbnail, tell the outcome,
not the upload: as a video's training text they leak it. So a later crawl never replaces them:

- An observation is seen at its ``observed_at`` (its own column or ``--observed-at``), else at the ingest
  time; a stored row with a null ``first_seen_at`` (written before it was kept) counts as the earliest.
- The earliest observation's title, hashtags and thumbnail are kept (the stored ones on a tie, else the
  first row of the input), and ``first_seen_at`` says when they were seen: an older crawl ingested later
  moves them back. The other columns (description, language, duration, creator, platform, publish time)
  come from the last row written, as before.
- A row with no title, no hashtags and no thumbnail (counts only) shows no content: it never wins over one
  that does, and a stored row like that is filled by the first one that shows some. A thumbnail that could
  not be fetched at first is the first one that was.
- Every other observation whose content differs from the kept one, and stored content that an earlier
  observation displaces, becomes a ``video_versions`` row keyed (video_id, seen_at): history, not training
  text. Ingesting the same file again adds none.
- ``content_hash`` is computed from the row as stored, so the embedding job re-encodes a video only when its
  stored content changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from miles.store.text import content_hash

if TYPE_CHECKING:
    from miles.store import Store

log = logging.getLogger(__name__)

CONTENT = ("title", "hashtags", "thumbnail")  # first seen, kept
STORED_COLUMNS = ["video_id", "title", "hashtags", "description", "thumbnail", "first_seen_at"]
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)  # a stored row's null first_seen_at

Observation = tuple[datetime, dict[str, Any]]  # (seen at, canonical videos row)


@dataclass
class Merged:
    videos: list[dict[str, Any]] = field(default_factory=list)  # one row per video, to upsert
    versions: list[dict[str, Any]] = field(default_factory=list)  # video_versions rows, one per (video, seen_at)


def stored_content(store: Store, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """video_id -> its stored row (``STORED_COLUMNS``; ``first_seen_at`` null in a table from before it was
    kept) for the ``ids`` that are stored."""
    ids = list(ids)
    if not ids or not store.has("videos"):
        return {}
    ds = store.dataset("videos")
    columns = [c for c in STORED_COLUMNS if c in ds.schema.names]
    rows = ds.to_table(columns=columns, filter=pc.field("video_id").isin(pa.array(ids, pa.string()))).to_pylist()
    return {r["video_id"]: {"first_seen_at": None, **r} for r in rows}


def first_seen(observations: dict[str, list[Observation]], stored: dict[str, dict[str, Any]]) -> Merged:
    """The rows to store for each video of a batch, given its observations (in input order) and its stored
    row, if any; and the versions to keep as history."""
    out = Merged()
    seen_keys: set[tuple] = set()
    for vid, obs in observations.items():
        row, versions = _merge(obs, stored.get(vid))
        out.videos.append(row)
        for v in versions:  # two observations of one video at one time: the first
            if (v["video_id"], v["seen_at"]) not in seen_keys:
                seen_keys.add((v["video_id"], v["seen_at"]))
                out.versions.append(v)
    if out.versions:
        log.debug("first-seen content kept for %d videos; %d later versions kept as history", len(out.videos),
                  len(out.versions))
    return out


def _merge(obs: list[Observation], old: dict[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    # Candidates for the kept content: (seen at, order, row); the stored row first on a tie.
    candidates = [] if old is None else [(old["first_seen_at"] or _EARLIEST, -1, old)]
    candidates += [(seen, i, row) for i, (seen, row) in enumerate(obs)]
    showing = [c for c in candidates if _has_content(c[2])]
    seen, order, kept = min(showing or candidates, key=lambda c: (c[0], c[1]))
    row = {**obs[-1][1], **{k: kept[k] for k in CONTENT}}
    if row["thumbnail"] is None:  # a thumbnail that could not be fetched at first: the first one that was
        row["thumbnail"] = next((r["thumbnail"] for _, _, r in sorted(showing, key=lambda c: (c[0], c[1]))
                                 if r.get("thumbnail") is not None), None)
    row["first_seen_at"] = old["first_seen_at"] if order == -1 else seen
    row["content_hash"] = content_hash(row["title"], row["hashtags"], row["description"], row["thumbnail"])
    versions = [_version(row["video_id"], s, r) for s, i, r in showing if i != order and _differs(r, row)]
    return row, versions


def _has_content(row: dict[str, Any]) -> bool:
    return bool(row.get("title")) or bool(row.get("hashtags")) or row.get("thumbnail") is not None


def _differs(row: dict[str, Any], kept: dict[str, Any]) -> bool:
    """Does an observation show other content than the kept one? A missing thumbnail shows none."""
    if (row.get("title"), tuple(row.get("hashtags") or ())) != (kept.get("title"), tuple(kept.get("hashtags") or ())):
        return True
    return row.get("thumbnail") is not None and row.get("thumbnail") != kept.get("thumbnail")


def _version(vid: str, seen: datetime, row: dict[str, Any]) -> dict[str, Any]:
    thumb = row.get("thumbnail")
    return {"video_id": vid, "seen_at": seen, "title": row.get("title"), "hashtags": row.get("hashtags"),
            "description": row.get("description"),
            "thumbnail_sha256": None if thumb is None else hashlib.sha256(thumb).hexdigest(),
            "content_hash": content_hash(row.get("title"), row.get("hashtags"), row.get("description"), thumb)}
