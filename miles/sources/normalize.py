"""Turn one raw source row into canonical ``videos`` and ``snapshots`` rows, or a reject with its reason."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from miles.errors import MilesError
from miles.sources.images import MAX_BYTES, ImageError, inside, read_thumbnail, verify_image
from miles.sources.parse import (
    MAX_HASHTAGS,
    hashtags_in,
    is_missing,
    parse_age,
    parse_count,
    parse_hashtags,
    parse_seconds,
    parse_time,
)
from miles.store.language import language_of
from miles.store.text import content_hash

COUNT_FIELDS = ("views", "likes", "comments", "shares", "creator_followers")
MAX_TEXT = 5000  # characters of a title or description; longer ones are rejected, never cut


@dataclass
class RawRow:
    """One row as a reader found it. ``error`` is set when the row could not even be parsed."""

    source: str
    row: int  # 1-based within its source
    data: dict[str, Any]
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source column
    base_dir: Path | None = None  # relative thumbnail paths resolve against it
    thumbnail_path: Path | None = None  # a reader that knows the file sets it
    thumbnail_bytes: bytes | None = None  # or a collector that fetched the image (verified like a file)
    platform: str | None = None
    error: str | None = None


@dataclass
class Options:
    observed_at: datetime | None = None
    thumbnails: dict[str, Path] | None = None  # video_id -> image file, from --thumbnails DIR
    platform: str | None = None
    thumbnails_dir: Path | None = None
    allow_absolute_paths: bool = False  # thumbnail paths outside the input's folder and --thumbnails
    # The last few thumbnails read, so that rows repeating one video (one per observation) read it once.
    recent_thumbnails: dict[Path, bytes | ImageError] = field(default_factory=dict)


@dataclass
class Canonical:
    video: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None
    reject: str | None = None  # the row is not stored
    notes: list[str] = field(default_factory=list)  # the row is stored, with these problems
    snapshot_skipped: str | None = None
    observed_at: datetime | None = None  # when the row was observed (its own column or --observed-at), if known


def _allowed(path: Path, base_dir: Path | None, opts: Options) -> bool:
    roots = [r for r in (base_dir, opts.thumbnails_dir) if r is not None]
    return any(inside(path, root) for root in roots)


_SURROGATE = re.compile("[\ud800-\udfff]")  # half of a UTF-16 pair: no UTF-8 text holds one


def raw_json(data: dict[str, Any], limit: int = 20_000) -> str:
    """The row as JSON for ``rejects``: undecodable bytes shown as ``\\xNN``, lone surrogates as ``\\udNNN``,
    long rows cut."""
    text = shown(json.dumps(data, ensure_ascii=False, default=_shown))
    return text if len(text) <= limit else text[:limit] + "…(truncated)"


def shown(text: str) -> str:
    """``text`` as UTF-8 can hold it: a byte that was not UTF-8 (kept as a surrogate by ``surrogateescape``)
    shown as ``\\xNN``, any other lone surrogate (a JSON or HTML escape of half a character) as ``\\udNNN``."""
    def show(m: re.Match) -> str:
        code = ord(m.group())
        return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"

    return _SURROGATE.sub(show, text)


def _shown(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[:200]).decode("utf-8", "backslashreplace")
    return str(value)


def _get(raw: RawRow, name: str) -> Any:
    col = raw.columns.get(name)
    return None if col is None else raw.data.get(col)


def _text(value: Any) -> str | None:
    """A text field as stored, or ``ValueError`` saying why it cannot be stored faithfully: bytes that are not
    UTF-8 (from a CSV in another encoding, or a Parquet binary column), a NUL byte, or more than
    ``MAX_TEXT`` characters. Nothing is replaced or cut silently."""
    if is_missing(value):
        return None
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as err:
            raise MilesError(f"is bytes that are not UTF-8 (byte {value[err.start]:#04x} at {err.start})") from None
    text = str(value).strip()
    bad = _SURROGATE.search(text)
    if bad is not None:
        code, at = ord(bad.group()), bad.start()
        if 0xDC80 <= code <= 0xDCFF:
            raise MilesError(f"is not valid UTF-8 (byte {code - 0xDC00:#04x} at character {at}): save the file as UTF-8")
        raise MilesError(f"holds a lone surrogate \\u{code:04x} at character {at} (an escape of half a character, "
                         "not text): fix it in the source")
    if "\x00" in text:
        raise MilesError("contains a NUL byte")
    if len(text) > MAX_TEXT:
        raise MilesError(f"is {len(text):,} characters, over the limit of {MAX_TEXT:,}")
    return text or None


TEXT_FIELDS = ("video_id", "creator_id", "title", "description", "language", "platform")


def _texts(raw: RawRow) -> dict[str, str | None] | str:
    """The text fields of a row, or the reject reason of the first that cannot be stored."""
    out = {}
    for name in TEXT_FIELDS:
        try:
            out[name] = _text(_get(raw, name))
        except ValueError as err:
            return f"bad {name} (column {raw.columns.get(name)!r}): {err}"
    return out


def normalize(raw: RawRow, opts: Options) -> Canonical:
    if raw.error:
        return Canonical(reject=raw.error)
    texts = _texts(raw)
    if isinstance(texts, str):
        return Canonical(reject=texts)
    vid = texts["video_id"]
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

    title = texts["title"]
    description = texts["description"]
    # The hashtags field, else those in the title: never the description's, which is crawled after
    # publishing and gains what happened since ("#trending").
    tags = _tags(raw, title, out.notes)
    if isinstance(tags, str):
        return Canonical(reject=tags)
    thumbnail = _thumbnail(raw, vid, opts, out.notes)
    platform = texts["platform"] or opts.platform or raw.platform or "unknown"
    out.video = {
        "video_id": vid,
        "platform": platform.lower(),
        "creator_id": texts["creator_id"],
        "title": title,
        "description": description,
        "hashtags": tags,
        "language": language_of(title, texts["language"]),  # the source's, else detected from the title
        "duration_s": duration,
        "published_at": published,
        "thumbnail": thumbnail,
        "content_hash": content_hash(title, tags, description, thumbnail),
    }
    out.observed_at = observed
    has_counts = any(counts[c] is not None for c in ("views", "likes", "comments", "shares"))
    if has_counts or counts["creator_followers"] is not None:
        if observed is None:
            out.snapshot_skipped = "counts without an observation time (pass --observed-at ISO)"
        else:
            out.snapshot = {"video_id": vid, "observed_at": observed, **counts}
    return out


def _tags(raw: RawRow, title: str | None, notes: list[str]) -> list[str] | str:
    """The hashtags field, else those in the title, at most ``MAX_HASHTAGS`` (a cut is noted), each stored as
    text is; or the reject reason."""
    tags = parse_hashtags(_get(raw, "hashtags")) or hashtags_in(title)
    if len(tags) > MAX_HASHTAGS:
        notes.append(f"too many hashtags: stored the first {MAX_HASHTAGS} of {len(tags):,} (the cap per video)")
        tags = tags[:MAX_HASHTAGS]
    for tag in tags:
        try:
            _text(tag)
        except ValueError as err:
            return f"bad hashtags (column {raw.columns.get('hashtags')!r}): the tag {tag[:60]!r} {err}"
    return tags


def _thumbnail(raw: RawRow, vid: str, opts: Options, notes: list[str]) -> bytes | None:
    if raw.thumbnail_bytes is not None:
        try:
            if len(raw.thumbnail_bytes) > MAX_BYTES:
                raise ImageError(f"thumbnail is {len(raw.thumbnail_bytes) / 2**20:.1f} MiB, over the limit of "
                                 f"{MAX_BYTES / 2**20:.0f} MiB")
            verify_image(raw.thumbnail_bytes)
        except ImageError as err:
            notes.append(f"stored without thumbnail: {err}")
            return None
        return raw.thumbnail_bytes
    path = raw.thumbnail_path
    try:
        value = _text(_get(raw, "thumbnail"))
    except ValueError as err:
        notes.append(f"stored without thumbnail: its path {err}")
        return None
    if path is None and value is not None:
        if value.startswith(("http://", "https://")):
            notes.append(f"thumbnail {value[:80]!r} is a URL; Miles reads files only (use --thumbnails DIR)")
            return None
        path = Path(value)
        if not path.is_absolute() and raw.base_dir is not None:
            path = raw.base_dir / path
        if not opts.allow_absolute_paths and not _allowed(path, raw.base_dir, opts):
            notes.append(f"stored without thumbnail: {value[:120]!r} lies outside the input's folder "
                         "(pass --allow-absolute-paths to read it)")
            return None
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


def normalized(rows: Iterable[RawRow], opts: Options) -> Iterable[tuple[RawRow, Canonical]]:
    """Each raw row with its canonical form (or its reason to be rejected): what every engine writes."""
    return ((raw, normalize(raw, opts)) for raw in rows)
