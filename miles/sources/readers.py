"""Readers: each turns one input into a stream of ``RawRow`` (never the whole file in memory).

- ``csv`` / ``parquet`` / ``jsonl``: one row per line or record, columns matched by ``columns.py``.
- ``ytdlp``: a folder of ``*.info.json`` files as ``yt-dlp --write-info-json --write-thumbnail`` writes
  them, each thumbnail beside its info file.
- ``smp``: the SMP-Video JSONL layout (posts, videos, users, popularity files joined on pid / uid).
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from miles.errors import MilesError
from miles.sources.columns import resolve_columns
from miles.sources.normalize import RawRow

Format = Literal["auto", "csv", "parquet", "json", "jsonl", "ytdlp", "smp"]
FORMATS = ("auto", "csv", "parquet", "json", "jsonl", "ytdlp", "smp")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def detect_format(path: Path) -> str:
    if path.is_dir():
        if any(path.glob("*posts*.jsonl")) and any(path.glob("*popularity*.jsonl")):
            return "smp"
        if any(path.rglob("*.info.json")):
            return "ytdlp"
        raise MilesError(f"{path}: a folder must hold yt-dlp *.info.json files or the SMP-Video jsonl files")
    name = path.name.lower()
    if name.endswith(".info.json"):
        return "ytdlp"
    for ext, fmt in ((".csv", "csv"), (".tsv", "csv"), (".parquet", "parquet"), (".jsonl", "jsonl"),
                     (".ndjson", "jsonl"), (".json", "json")):
        if name.endswith(ext):
            return fmt
    raise MilesError(f"{path}: cannot tell the format from the name; pass --format {{csv,parquet,json,jsonl,ytdlp,smp}}")


def read(path: Path, fmt: str, user_map: dict[str, str], records: str | None = None) -> Iterator[RawRow]:
    """The rows of one input. ``records``: the key under which a JSON document keeps its records."""
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "json":
        return read_json(path, user_map, records)
    if records is not None:
        raise MilesError(f"--records applies to JSON documents, not to {fmt} input")
    readers = {"csv": read_csv, "parquet": read_parquet, "jsonl": read_jsonl, "ytdlp": read_ytdlp, "smp": read_smp}
    if fmt not in readers:
        raise MilesError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    return readers[fmt](path, user_map)


def _check_map(path: Path, columns: list[str], user_map: dict[str, str]) -> None:
    missing = {k: v for k, v in user_map.items() if v not in columns}
    if missing:
        raise MilesError(
            f"{path}: --map names columns that are not there: "
            + ", ".join(f"{k}={v}" for k, v in missing.items())
            + f"; its columns are {columns}"
        )


def read_csv(path: Path, user_map: dict[str, str]) -> Iterator[RawRow]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    # Undecodable bytes survive as surrogates, so the row is rejected with the byte named, not altered.
    with open(path, newline="", encoding="utf-8-sig", errors="surrogateescape") as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        _check_map(path, header, user_map)
        columns = resolve_columns(header, user_map)
        for i, values in enumerate(reader, start=1):
            if not any(v.strip() for v in values):
                continue
            data = dict(zip(header, values, strict=False))
            error = None
            if len(values) != len(header):
                error = f"row has {len(values)} fields, the header has {len(header)}"
            yield RawRow(str(path), i, data, columns, path.parent, error=error)


def read_parquet(path: Path, user_map: dict[str, str]) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    _check_map(path, names, user_map)
    columns = resolve_columns(names, user_map)
    i = 0
    for batch in pf.iter_batches(batch_size=4096):
        for data in batch.to_pylist():
            i += 1
            yield RawRow(str(path), i, data, columns, path.parent)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def read_json(path: Path, user_map: dict[str, str], records: str | None = None) -> Iterator[RawRow]:
    """A JSON document: a list of records, or an object keeping them under one key (tiktok-scraper's
    ``{"collector": [...]}``, an API's ``{"items": [...]}``), found when exactly one list of objects stands at
    its top or named by ``records``. A file that is not one JSON value is read as JSON lines."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8", errors="replace"), parse_constant=lambda c: math.nan)
    except json.JSONDecodeError:
        yield from read_jsonl(path, user_map)
        return
    if records is not None:
        if not isinstance(doc, dict) or records not in doc:
            keys = sorted(doc) if isinstance(doc, dict) else []
            raise MilesError(f"{path}: --records {records!r}: the document has no such key (its keys: {keys[:20]})")
        doc = doc[records]
    elif isinstance(doc, dict):
        lists = [k for k, v in doc.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) > 1:
            raise MilesError(f"{path}: records could sit under any of {lists}; name one with --records KEY")
        doc = doc[lists[0]] if lists else [doc]
    if not isinstance(doc, list):
        raise MilesError(f"{path}: expected a list of records or an object holding one, got {type(doc).__name__}")
    cache: dict[frozenset[str], dict[str, str]] = {}
    for i, obj in enumerate(doc, start=1):
        if not isinstance(obj, dict):
            yield RawRow(str(path), i, {"record": str(obj)[:2000]}, error="record is not a JSON object")
            continue
        yield _object_row(path, i, obj, user_map, cache)


def _object_row(path: Path, i: int, obj: dict[str, Any], user_map: dict[str, str], cache: dict) -> RawRow:
    """A JSON object of a file as a raw row; the column matches are worked out once per set of keys."""
    data = _flatten(obj)
    keys = frozenset(data)
    if keys not in cache:
        cache[keys] = resolve_columns(data, user_map)
    return RawRow(str(path), i, data, cache[keys], path.parent)


def record_row(record: dict[str, Any], source: str, row: int, platform: str | None = None,
               thumbnail_bytes: bytes | None = None) -> RawRow:
    """One JSON record from a collector (a YouTube Data API item, say) as a raw row: nested objects
    flattened to dotted names, then the automatic column matches."""
    data = _flatten(record)
    return RawRow(source, row, data, resolve_columns(data), platform=platform, thumbnail_bytes=thumbnail_bytes)


def read_jsonl(path: Path, user_map: dict[str, str]) -> Iterator[RawRow]:
    cache: dict[frozenset[str], dict[str, str]] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_constant=lambda c: math.nan)
            except json.JSONDecodeError as err:
                yield RawRow(str(path), i, {"line": line[:2000]}, error=f"line is not valid JSON ({err.msg})")
                continue
            if not isinstance(obj, dict):
                yield RawRow(str(path), i, {"line": line[:2000]}, error="line is JSON but not an object")
                continue
            yield _object_row(path, i, obj, user_map, cache)


def _ytdlp_thumbnail(info_path: Path) -> Path | None:
    stem = info_path.name[: -len(".info.json")]
    for ext in IMAGE_EXTS:
        candidate = info_path.with_name(stem + ext)
        if candidate.exists():
            return candidate
    return None


def read_ytdlp(path: Path, user_map: dict[str, str]) -> Iterator[RawRow]:
    files = [path] if path.is_file() else sorted(path.rglob("*.info.json"))
    for _i, info in enumerate(files, start=1):
        source = str(info)
        try:
            obj = json.loads(info.read_text(encoding="utf-8", errors="replace"))
        except (OSError, json.JSONDecodeError) as err:
            yield RawRow(source, 1, {"file": str(info)}, error=f"cannot read yt-dlp info file: {err}")
            continue
        if not isinstance(obj, dict):
            yield RawRow(source, 1, {"file": str(info)}, error="yt-dlp info file is not a JSON object")
            continue
        if obj.get("_type") == "playlist":
            continue
        yield ytdlp_row(obj, source, user_map, base_dir=info.parent, thumbnail_path=_ytdlp_thumbnail(info))


def ytdlp_row(info: dict[str, Any], source: str, user_map: dict[str, str] | None = None, row: int = 1,
              base_dir: Path | None = None, thumbnail_path: Path | None = None,
              thumbnail_bytes: bytes | None = None) -> RawRow:
    """One yt-dlp info dict as a raw row: the one mapping for an ``.info.json`` on disk and for a video that
    ``miles scrape`` fetched (which passes the thumbnail's bytes and sets ``observed_at``)."""
    # Keep the scalar fields; formats, thumbnails lists and subtitles are large and not needed.
    data = {k: v for k, v in info.items() if not isinstance(v, (dict, list)) or k in ("tags",)}
    return RawRow(source, row, data, resolve_columns(data, user_map or {}), base_dir, thumbnail_path=thumbnail_path,
                  thumbnail_bytes=thumbnail_bytes,
                  platform=str(info.get("extractor_key") or info.get("extractor") or "youtube").lower())


def _smp_file(folder: Path, kind: str) -> Path:
    matches = sorted(folder.glob(f"*{kind}*.jsonl"))
    if not matches:
        raise MilesError(f"{folder}: no *{kind}*.jsonl file; the SMP-Video layout has posts, videos, users, popularity")
    return matches[0]


def _load_jsonl_by(path: Path, key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the posts file is the one whose rows are reported; side tables are lookups
                if isinstance(obj, dict) and key in obj:
                    out.setdefault(str(obj[key]), obj)
    return out


def read_smp(path: Path, user_map: dict[str, str]) -> Iterator[RawRow]:
    """SMP-Video: posts joined to videos and popularity on ``pid`` and to users on ``uid``.

    ``popularity`` is a log-scaled view count whose base and observation time the set does not state. It
    is read as log2(views + 1), the SMP image track's convention; ranks (AUROC, Spearman within the set)
    do not depend on that choice. With no observation time in the files, the counts become a snapshot
    only when ``--observed-at`` is given; otherwise the summary counts them as skipped.

    ``post_suggested_words`` are TikTok's search suggestions gathered when the set was crawled, after
    publishing: they are not the creator's description and are not read (a ``pre_upload`` model must not
    see them). The post has no caption apart from its hashtags, which become the title text."""
    folder = path if path.is_dir() else path.parent
    videos = _load_jsonl_by(_smp_file(folder, "videos"), "pid")
    users = _load_jsonl_by(_smp_file(folder, "users"), "uid")
    popularity = _load_jsonl_by(_smp_file(folder, "popularity"), "pid")
    smp_map = {"video_id": "pid", "creator_id": "uid", "title": "post_text", "hashtags": "post_content",
               "language": "post_text_language",
               "duration_s": "video_duration", "published_at": "post_time",
               "creator_followers": "user_follower_count", "views": "smp_views", **user_map}
    for raw in read_jsonl(_smp_file(folder, "posts"), smp_map):
        if raw.error is None:
            d = raw.data
            d.update({k: v for k, v in videos.get(str(d.get("pid")), {}).items() if k not in d})
            d.update({k: v for k, v in users.get(str(d.get("uid")), {}).items() if k not in d})
            pop = popularity.get(str(d.get("pid")), {}).get("popularity")
            d["smp_views"] = round(2.0 ** float(pop) - 1) if isinstance(pop, (int, float)) else None
            d["post_text"] = " ".join(f"#{t}" for t in str(d.get("post_content") or "").split(",") if t.strip())
            raw.columns = resolve_columns(d, smp_map)
            raw.platform = "tiktok"
        yield raw
