"""``miles scrape track``: fetch each tracked video that is due on the ladder, store what it shows now.

    summary = track(store, Ladder.parse(), max_requests=200)
    print(summary.line())     # due 40 · fetched 38 · new snapshots 38 · failed 1 · gone 1

One pass is stateless: what is due comes from the store (the ``tracked`` table, each video's publish time
and its snapshots), so passes can run from cron, a systemd timer or ``--every``. Each fetch becomes a yt-dlp
info dict with ``observed_at`` the fetch time, mapped by ``miles.sources.readers.ytdlp_row`` and stored by
``ingest_rows``: the same canonical mapping and rejects as ``miles ingest`` of an ``.info.json``. Rows are
committed every ``commit_every`` fetches and at the end; a pass killed in between loses at most those, and
a rerun fetches them again (snapshots are keyed on (video_id, observed_at), so nothing doubles). A 429 or a
bot check ends the pass with everything fetched so far committed. A fetched video whose row is rejected
(a title holding half a character, say) counts as a failure of that video, with the reason as its last
error, and the pass goes on with the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pyarrow.compute as pc

from miles.collect.ladder import Ladder
from miles.collect.youtube_api import DataAPI
from miles.collect.ytdlp import Blocked, Client, Failed, FetchError, Gone
from miles.sources.columns import ALIASES
from miles.sources.ingest import IngestSummary, ingest_rows
from miles.sources.normalize import Options
from miles.sources.readers import record_row, ytdlp_row
from miles.store import Store
from miles.store.lock import writer_lock

log = logging.getLogger(__name__)
MAX_FAILURES = 8  # failed fetches in a row before a video is given up as failed
NO_TIME_TRIES = 3  # fetches whose page gives no publish time before the video is given up as failed
PUBLISH_KEYS = ALIASES["published_at"]
STOP_AFTER = 5  # failed fetches in a row, across videos, before a pass stops
ACTIVE = ("tracking",)


def backoff(failures: int) -> timedelta:
    """How long a video that failed ``failures`` times in a row waits before the next try."""
    return min(timedelta(hours=24), timedelta(minutes=10) * 2 ** (failures - 1))


@dataclass
class TrackSummary:
    tracked: int = 0
    due: int = 0
    fetched: int = 0
    snapshots: int = 0
    failed: int = 0
    gone: int = 0
    done: int = 0
    rejected: int = 0
    stopped: str | None = None

    def line(self) -> str:
        out = (f"tracked {self.tracked} · due {self.due} · fetched {self.fetched} · new snapshots {self.snapshots} · "
               f"failed {self.failed} · gone {self.gone} · finished the ladder {self.done}")
        if self.rejected:
            out += f" · rows with problems {self.rejected} (see the rejects table)"
        return out + (f"\nstopped early: {self.stopped}" if self.stopped else "")


def state(store: Store) -> list[dict]:
    """Each active tracked video with its publish time and the times it was observed."""
    rows = store.read("tracked", filter=pc.field("status").isin(list(ACTIVE))).to_pylist()
    if not rows:
        return []
    ids = [r["video_id"] for r in rows]
    vids = store.read("videos", columns=["video_id", "published_at"], filter=pc.field("video_id").isin(ids))
    published = dict(zip(vids["video_id"].to_pylist(), vids["published_at"].to_pylist()))
    snaps = store.read("snapshots", columns=["video_id", "observed_at"], filter=pc.field("video_id").isin(ids))
    observed: dict[str, list[datetime]] = {}
    for v, o in zip(snaps["video_id"].to_pylist(), snaps["observed_at"].to_pylist()):
        observed.setdefault(v, []).append(o)
    for r in rows:
        r["published_at"] = published.get(r["video_id"])
        r["observed"] = observed.get(r["video_id"], [])
    return rows


def _stored_thumbnails(store: Store, ids: list[str]) -> dict[str, bytes]:
    if not ids:
        return {}
    t = store.read("videos", columns=["video_id", "thumbnail"],
                   filter=pc.field("video_id").isin(ids) & pc.field("thumbnail").is_valid())
    return dict(zip(t["video_id"].to_pylist(), t["thumbnail"].to_pylist()))


def track(store: Store, ladder: Ladder | None = None, max_requests: int = 500, client: Client | None = None,
          now: Callable[[], datetime] = lambda: datetime.now(timezone.utc), commit_every: int = 25,
          progress: bool = False, api: DataAPI | None = None) -> TrackSummary:
    """One pass. With ``api``, YouTube videos already fetched once get their counts from the Data API,
    50 to a call; first fetches (metadata and thumbnail) and other platforms go through yt-dlp."""
    from tqdm.auto import tqdm

    ladder = ladder or Ladder.parse()
    client = client or Client()
    out = TrackSummary()
    t0 = now()
    rows = state(store)
    out.tracked = len(rows)
    finished = [r for r in rows if ladder.done(r["published_at"], r["observed"])]
    for r in finished:
        r["status"] = "done"
    out.done += len(finished)
    due = [r for r in rows if r["status"] == "tracking" and ladder.due(r["published_at"], r["observed"], t0)
           and (not r["failures"] or r["last_attempt_at"] + backoff(r["failures"]) <= t0)]
    due.sort(key=lambda r: ladder.next_due(r["published_at"], r["observed"], t0) or t0)
    out.due = len(due)
    due = due[:max_requests]
    thumbs = _stored_thumbnails(store, [r["video_id"] for r in due])
    pending, changed = [], {r["video_id"]: r for r in finished}
    owner: dict[int, tuple[dict, int]] = {}  # id of a pending row -> its tracked video, failures before
    ingested = IngestSummary()

    def add(row, r: dict) -> None:
        pending.append(row)
        owner[id(row)] = r, r["failures"] or 0

    def not_stored(row, reason: str) -> None:  # fetched, but its row was rejected: a failure of that video
        r, before = owner[id(row)]
        r["failures"] = before + 1
        r["last_error"] = f"fetched, not stored: {reason}"[:500]
        if r["failures"] >= MAX_FAILURES:
            r["status"] = "failed"

    def commit():  # the writer lock is held only here: never while a fetch waits on the network
        if not pending and not changed:
            return
        with writer_lock(store, "scrape track"):
            if pending:
                ingest_rows(pending, store, Options(), ingested, now(), on_reject=not_stored)
                pending.clear()
                owner.clear()
            if changed:
                store.upsert("tracked", [{k: v for k, v in r.items() if k not in ("published_at", "observed")}
                                         for r in changed.values()])
                changed.clear()

    if api is not None:
        via = [r["platform"] == "youtube" and r["video_id"] in thumbs for r in due]
        by_api, due = [r for r, f in zip(due, via) if f], [r for r, f in zip(due, via) if not f]
        out.stopped = _via_api(api, by_api, thumbs, now, add, changed, out)
        commit()
        if out.stopped:
            due = []
    streak = 0
    for r in tqdm(due, desc="track", unit="video", disable=None if progress else True, leave=False):
        at = now()
        prior = r["failures"] or 0
        r["last_attempt_at"] = at
        changed[r["video_id"]] = r
        try:
            info = client.video(r["url"])
            thumb = thumbs.get(r["video_id"])
            if thumb is None:
                try:
                    thumb = client.thumbnail(info)
                except Blocked:
                    raise
                except FetchError as err:  # stored without one; fetched again on the next rung
                    log.info("%s: no thumbnail (%s)", r["video_id"], err)
            info.pop("thumbnail", None)  # a URL: the bytes, when there are any, travel beside the row
            info["observed_at"] = at.isoformat()
            info.pop("epoch", None)  # yt-dlp's own wall clock; ours is observed_at
            add(ytdlp_row(info, f"scrape {r['url'][:200]}", row=out.fetched + 1, thumbnail_bytes=thumb), r)
            r["failures"], r["last_error"] = 0, None
            out.fetched += 1
            if r["published_at"] is None and not any(info.get(k) not in (None, "") for k in PUBLISH_KEYS):
                # Without a publish time no rung is ever reached: each pass would fetch it again, for ever.
                r["failures"] = prior + 1
                r["last_error"] = "the page gives no publish time, so its age is unknown"
                if r["failures"] >= NO_TIME_TRIES:
                    r["status"] = "failed"
        except Gone as err:
            r["status"], r["last_error"] = "gone", str(err)
            out.gone += 1
        except Blocked as err:
            r["last_error"] = str(err)
            out.stopped = f"the platform refused ({err}); everything fetched before is stored, run again later"
            break
        except Failed as err:
            r["failures"] = (r["failures"] or 0) + 1
            r["last_error"] = str(err)
            if r["failures"] >= MAX_FAILURES:
                r["status"] = "failed"
            out.failed += 1
            streak += 1
            if streak >= STOP_AFTER:
                out.stopped = (f"{streak} fetches in a row failed (last: {err}); is the network or the platform "
                               "down? everything fetched before is stored")
                break
        else:
            streak = 0
        if len(pending) >= commit_every:
            commit()
    commit()
    with writer_lock(store, "scrape track"):
        for name in ("snapshots", "videos", "tracked", "rejects"):
            store.compact(name)
    out.snapshots = ingested.snapshots_added
    out.rejected = ingested.n_rejected + sum(ingested.warnings.values())
    return out


def _via_api(api: DataAPI, rows: list[dict], thumbs: dict[str, bytes], now, add: Callable, changed: dict,
             out: TrackSummary) -> str | None:
    """Counts for ``rows`` from the Data API; the stored thumbnail travels with each row. Returns why the
    pass must stop, or None."""
    for i in range(0, len(rows), 50):
        chunk = {r["video_id"]: r for r in rows[i:i + 50]}
        at = now()
        try:
            items, gone = api.videos(list(chunk))
        except Blocked as err:
            return f"the YouTube Data API refused ({err}); everything fetched before is stored, run again later"
        except Failed as err:
            for r in chunk.values():
                r["failures"], r["last_error"], r["last_attempt_at"] = (r["failures"] or 0) + 1, str(err), at
                changed[r["video_id"]] = r
            out.failed += len(chunk)
            continue
        for vid, r in chunk.items():
            r["last_attempt_at"] = at
            changed[vid] = r
            if vid in gone:
                r["status"], r["last_error"] = "gone", "the YouTube Data API no longer returns it (private or removed)"
                out.gone += 1
                continue
            item = {**items[vid], "observed_at": at.isoformat()}
            add(record_row(item, f"youtube-api {vid}", out.fetched + 1, "youtube", thumbs[vid]), r)
            r["failures"], r["last_error"] = 0, None
            out.fetched += 1
    return None
