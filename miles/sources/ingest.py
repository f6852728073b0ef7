"""``miles ingest``: stream sources into the store in batches, every bad row kept as a reject.

    summary = ingest(["videos.csv"], store, observed_at=None, thumbnails="thumbs/")
    print(summary.line())

Rows flow reader → ``normalize`` → batch → ``Store.upsert``; memory holds one batch plus the set of
keys seen in this run (to reject duplicates within one input). A video's title, hashtags and thumbnail stay
as first observed; later ones go to ``video_versions`` (``miles.sources.first_seen``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from miles.errors import MilesError
from miles.sources.columns import parse_map
from miles.sources.first_seen import Observation, first_seen, stored_content
from miles.sources.normalize import Canonical, Options, RawRow, normalized, raw_json, shown
from miles.sources.parse import parse_time
from miles.sources.readers import IMAGE_EXTS, read
from miles.store import Store
from miles.store.lock import writer_lock

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    read: int = 0
    stored: int = 0  # rows accepted: new + updated + unchanged videos, or extra observations
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    snapshots_added: int = 0
    snapshots_skipped: int = 0
    versions_added: int = 0  # later titles, hashtags or thumbnails kept as history (video_versions)
    rejected: Counter = field(default_factory=Counter)  # reason kind -> rows
    warnings: Counter = field(default_factory=Counter)  # stored with a field dropped

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    def line(self) -> str:
        def by(c: Counter) -> str:
            return ", ".join(f"{k}: {v}" for k, v in c.most_common()) if c else ""

        parts = [
            f"read {self.read}",
            f"stored {self.stored}",
            f"videos new {self.new}, updated {self.updated}, unchanged {self.unchanged}",
            f"snapshots +{self.snapshots_added}",
            *([f"later versions +{self.versions_added} (history only)"] if self.versions_added else []),
            f"rejected {self.n_rejected}" + (f" ({by(self.rejected)})" if self.rejected else ""),
        ]
        if self.snapshots_skipped:
            parts.append(f"snapshots skipped {self.snapshots_skipped} (no observation time: pass --observed-at)")
        if self.warnings:
            parts.append(f"stored with problems {sum(self.warnings.values())} ({by(self.warnings)})")
        return " · ".join(parts)


def _reason_kind(reason: str) -> str:
    """The short kind of a reason for the summary: 'bad views', 'missing video_id', ..."""
    words = reason.split()
    if words[:2] == ["stored", "without"] and len(words) > 2:
        return "conflicting snapshot" if words[2].startswith("snapshot") else "bad thumbnail"
    if words[:1] in (["bad"], ["missing"], ["duplicate"]) and len(words) > 1:
        return f"{words[0]} {words[1]}"
    return reason.split(":")[0][:40]


def thumbnail_index(folder: str | Path | None) -> dict[str, Path] | None:
    if folder is None:
        return None
    folder = Path(folder)
    if not folder.is_dir():
        raise MilesError(f"--thumbnails {folder}: not a folder")
    index: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in IMAGE_EXTS:
            index.setdefault(p.stem, p)
    return index


def ingest(
    paths: Iterable[str | Path],
    store: Store,
    *,
    fmt: str = "auto",
    mapping: dict[str, str] | list[str] | None = None,
    observed_at: str | datetime | None = None,
    thumbnails: str | Path | None = None,
    platform: str | None = None,
    batch_size: int = 2000,
    progress: bool = True,
    allow_absolute_paths: bool = False,
    records: str | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> IngestSummary:
    """Ingest each path into ``store``; returns the counts. Bad rows become ``rejects`` rows. Thumbnail
    paths named in a file must lie under its folder or ``thumbnails`` unless ``allow_absolute_paths``.
    ``records``: the key under which a JSON document keeps its records (found by itself when unambiguous).
    ``engine="ray"``: the files are read and normalised in parallel, one Ray task each
    (``miles.sources.parallel``); their rows are then written here, in the order of ``paths``."""
    user_map = mapping if isinstance(mapping, dict) else parse_map(mapping)
    opts = Options(observed_at=parse_time(observed_at), thumbnails=thumbnail_index(thumbnails), platform=platform,
                   thumbnails_dir=Path(thumbnails) if thumbnails else None, allow_absolute_paths=allow_absolute_paths)
    summary = IngestSummary()
    now = datetime.now(timezone.utc)
    paths = [Path(p) for p in paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise MilesError(f"no such input: {missing[0]}")
    if engine not in ("local", "ray"):
        raise MilesError(f"--engine must be local or ray, got {engine!r}")
    if engine == "ray":
        from miles.sources.parallel import normalized_files

        inputs = normalized_files(paths, fmt, user_map, records, opts, ray_address)
    else:
        inputs = ((p, normalized(read(p, fmt, user_map, records), opts)) for p in paths)
    with writer_lock(store, "ingest"):
        for path, pairs in inputs:
            ingest_normalized(pairs, store, summary, now, batch_size, progress, label=path.name)
        for name in ("videos", "snapshots", "rejects"):  # a fragment a batch: 1,000 of them slow every read
            store.compact(name)
    return summary


Rejected = Callable[[RawRow, str], None]  # told of each row that is not stored, with the reason


def ingest_rows(rows: Iterable[RawRow], store: Store, opts: Options, summary: IngestSummary, now: datetime,
                batch_size: int = 2000, progress: bool = False, label: str = "rows",
                on_reject: Rejected | None = None) -> None:
    """Raw rows → ``normalize`` → the store, in batches; the caller holds the writer lock. Readers of files
    and ``miles scrape`` both come through here: one canonical mapping, one set of rejects. ``on_reject``:
    called with each row that is not stored and its reason (the collector marks that video's failure)."""
    ingest_normalized(normalized(rows, opts), store, summary, now, batch_size, progress, label, on_reject)


def ingest_normalized(pairs: Iterable[tuple[RawRow, Canonical]], store: Store, summary: IngestSummary,
                      now: datetime, batch_size: int = 2000, progress: bool = False, label: str = "rows",
                      on_reject: Rejected | None = None) -> None:
    """One input's normalised rows → the store in batches, a repeated key in one input rejected."""
    from tqdm.auto import tqdm

    seen: dict[tuple, tuple[str, int]] = {}
    batch = _Batch(store, summary, now, on_reject)
    bar = tqdm(desc=f"ingest {label}", unit="row", disable=None if progress else True, leave=False)
    for raw, result in pairs:
        summary.read += 1
        bar.update()
        if result.reject is None and result.video is not None:
            key = (result.video["video_id"], result.snapshot["observed_at"] if result.snapshot else None)
            first = seen.get(key)
            if first is not None:
                result = Canonical(
                    reject=f"duplicate video_id {key[0]!r} in one input (first at {first[0]} row {first[1]})"
                )
            else:
                seen[key] = (raw.source, raw.row)
        batch.add(raw, result)
        if len(batch) >= batch_size:
            batch.flush()
    batch.flush()
    bar.close()


class _Batch:
    def __init__(self, store: Store, summary: IngestSummary, now: datetime, on_reject: Rejected | None = None):
        self.store, self.summary, self.now, self.on_reject = store, summary, now, on_reject
        self.videos: dict[str, list[Observation]] = {}  # video_id -> (seen at, row) in input order
        self.snapshots: list[dict] = []
        self.snapshot_rows: dict[tuple, RawRow] = {}  # (video_id, observed_at) -> the row it came from
        self.rejects: list[dict] = []

    def __len__(self) -> int:
        return len(self.videos) + len(self.snapshots) + len(self.rejects)

    def add(self, raw: RawRow, result: Canonical) -> None:
        s = self.summary
        if result.reject is not None:
            s.rejected[_reason_kind(result.reject)] += 1
            self._reject(raw, result.video["video_id"] if result.video else _guess_id(raw), result.reject)
            if self.on_reject is not None:
                self.on_reject(raw, result.reject)
            return
        assert result.video is not None
        s.stored += 1
        vid = result.video["video_id"]
        # Several observations of one video in one input: the earliest one's content, the last row's metadata.
        self.videos.setdefault(vid, []).append((result.observed_at or self.now, result.video))
        if result.snapshot is not None:
            self.snapshots.append(result.snapshot)
            self.snapshot_rows[(vid, result.snapshot["observed_at"])] = raw
        if result.snapshot_skipped:
            s.snapshots_skipped += 1
        if result.notes:
            for note in result.notes:
                s.warnings[_reason_kind(note)] += 1
            self._reject(raw, vid, "; ".join(result.notes))

    def _reject(self, raw: RawRow, vid: str | None, reason: str) -> None:
        self.rejects.append({"source": _shown(raw.source), "row": raw.row, "video_id": _shown(vid),
                             "reason": _shown(reason), "raw": raw_json(raw.data), "ingested_at": self.now})

    def flush(self) -> None:
        s = self.summary
        if self.videos:
            merged = first_seen(self.videos, stored_content(self.store, self.videos))
            if merged.versions:  # before the videos: a rerun after a kill in between still sees what they displace
                s.versions_added += self.store.upsert("video_versions", merged.versions, update=False).inserted
            res = self.store.upsert("videos", merged.videos)
            s.new += res.inserted
            s.updated += res.updated
            s.unchanged += res.unchanged
        if self.snapshots:
            res = self.store.upsert("snapshots", self.snapshots, update=False)
            s.snapshots_added += res.inserted
            for row, stored in res.conflicts:  # the same observation stored with other counts: keep the first
                raw = self.snapshot_rows[(row["video_id"], row["observed_at"])]
                diff = ", ".join(f"{c} {row[c]} here, {stored[c]} stored" for c in stored
                                 if c not in ("video_id", "observed_at") and row[c] != stored[c])
                note = (f"stored without snapshot: it conflicts with the one stored for {row['video_id']!r} at "
                        f"{row['observed_at'].isoformat()} ({diff})")
                s.warnings[_reason_kind(note)] += 1
                self._reject(raw, row["video_id"], note)
        if self.rejects:
            self.store.upsert("rejects", self.rejects, update=False)
        self.videos, self.snapshots, self.rejects, self.snapshot_rows = {}, [], [], {}


def _shown(text: str | None) -> str | None:
    """Text as a rejects row can hold it (``normalize.shown``: \\xNN for bytes that were not UTF-8)."""
    return None if text is None else shown(text)


def _guess_id(raw: RawRow) -> str | None:
    col = raw.columns.get("video_id")
    value = raw.data.get(col) if col else None
    return str(value)[:200] if value not in (None, "") else None
