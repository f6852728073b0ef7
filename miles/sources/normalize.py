"""Turn one raw source row into canonical ``videos`` and ``snapshots`` rows, or a reject with its reason."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from miles.sources.images import ImageError, read_thumbnail
from miles.sources.parse import (
    hashtags_in,
    is_missing,
    parse_age,
    parse_count,
    parse_hashtags,
    parse_seconds,
    parse_time,
)
from miles.store.text import content_hash

COUNT_FIELDS = ("views", "likes", "comments", "shares", "creator_followers")
MAX_TEXT = 5000  # characters kept of a title or description


@dataclass
class RawRow:
    """One row as a reader found it. ``error`` is set when the row could not even be parsed."""

    source: str
    row: int  # 1-based within its source
    data: dict[str, Any]
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source column
    base_dir: Path | None = None  # relative thumbnail paths resolve against it
    thumbnail_path: Path | None = None  # a reader that knows the file sets it
    platform: str | None = None
    error: str | None = None


@dataclass
class Options:
    observed_at: datetime | None = None
    thumbnails: dict[str, Path] | None = None  # video_id -> image file, from --thumbnails DIR
    platform: str | None = None
    # The last few thumbnails read, so that rows repeating one video (one per observation) read it once.
    recent_thumbnails: dict[Path, bytes | ImageError] = field(default_factory=dict)


@dataclass
class Canonical:
    video: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None
    reject: str | None = None  # the row is not stored
    notes: list[str] = field(default_factory=list)  # the row is stored, with these problems
    snapshot_skipped: str | None = None


def raw_json(data: dict[str, Any], limit: int = 20_000) -> str:
    text = json.dumps(data, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…(truncated)"


def _get(raw: RawRow, name: str) -> Any:
    col = raw.columns.get(name)
    return None if col is None else raw.data.get(col)


def _text(value: Any) -> str | None:
    if is_missing(value):
        return None
    text = str(value).strip()
    return text[:MAX_TEXT] or None


def normalize(raw: RawRow, opts: Options) -> Canonical:
    if raw.error:
        return Canonical(reject=raw.error)
    vid = _text(_get(raw, "video_id"))
    if vid is None:
        col = raw.columns.get("video_id")
        where = f"column {col!r} is empty" if col else "no video_id column (use --map video_id=COLUMN)"
        return Canonical(reject=f"missing video_id: {where}")
    out = Canonical()

    def bad(name: str, err: ValueError) -> str:
        return f"{name} (column {raw.columns.get(name)!r}): {err}"

    try:
        published = parse_time(_get(raw, "published_at"))
    except ValueError as err:
        return Canonical(reject=f"bad published_at {bad('published_at', err)}")
    try:
        observed = parse_time(_get(raw, "observed_at")) or opts.observed_at
    except ValueError as err:
        return Canonical(reject=f"bad observed_at {bad('observed_at', err)}")
    try:
        age = parse_age(_get(raw, "age_s"))
    except ValueError as err:
        return Canonical(reject=f"bad age_s {bad('age_s', err)}")
    if published is None and age is not None:
        if observed is None:
            return Canonical(reject="age_s given without an observation time: pass --observed-at ISO")
        published = observed - age
    counts: dict[str, int | None] = {}
    for name in COUNT_FIELDS:
        try:
            counts[name] = parse_count(_get(raw, name))
        except ValueError as err:
            return Canonical(reject=f"bad {name} {bad(name, err)}")
    try:
        duration = parse_seconds(_get(raw, "duration_s"))
    except ValueError as err:
        return Canonical(reject=f"bad duration_s {bad('duration_s', err)}")
    if published is not None and observed is not None and published > observed:
        return Canonical(reject=f"published_at {published.isoformat()} is after observed_at {observed.isoformat()}")

    title = _text(_get(raw, "title"))
    description = _text(_get(raw, "description"))
    tags = parse_hashtags(_get(raw, "hashtags")) or hashtags_in(title) or hashtags_in(description)
    thumbnail = _thumbnail(raw, vid, opts, out.notes)
    platform = _text(_get(raw, "platform")) or opts.platform or raw.platform or "unknown"
    out.video = {
        "video_id": vid,
        "platform": platform.lower(),
        "creator_id": _text(_get(raw, "creator_id")),
        "title": title,
        "description": description,
        "hashtags": tags,
        "language": _text(_get(raw, "language")),
        "duration_s": duration,
        "published_at": published,
        "thumbnail": thumbnail,
        "content_hash": content_hash(title, tags, description, thumbnail),
    }
    has_counts = any(counts[c] is not None for c in ("views", "likes", "comments", "shares"))
    if has_counts or counts["creator_followers"] is not None:
        if observed is None:
            out.snapshot_skipped = "counts without an observation time (pass --observed-at ISO)"
        else:
            out.snapshot = {"video_id": vid, "observed_at": observed, **counts}
    return out


def _thumbnail(raw: RawRow, vid: str, opts: Options, notes: list[str]) -> bytes | None:
    path = raw.thumbnail_path
    value = _text(_get(raw, "thumbnail"))
    if path is None and value is not None:
        if value.startswith(("http://", "https://")):
            notes.append(f"thumbnail {value[:80]!r} is a URL; Miles reads files only (use --thumbnails DIR)")
            return None
        path = Path(value)
        if not path.is_absolute() and raw.base_dir is not None:
            path = raw.base_dir / path
    if path is None and opts.thumbnails is not None:
        path = opts.thumbnails.get(vid)
    if path is None:
        return None
    cache = opts.recent_thumbnails
    if path not in cache:
        if len(cache) >= 16:
            cache.pop(next(iter(cache)))
        try:
            cache[path] = read_thumbnail(path)
        except ImageError as err:
            cache[path] = err
    got = cache[path]
    if isinstance(got, ImageError):
        notes.append(f"stored without thumbnail: {got}")
        return None
    return got
