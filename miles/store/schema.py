"""Canonical Arrow schemas of the store tables.

Sources produce rows of these schemas; every later stage reads them by these column names.
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

VIDEOS = pa.schema(
    [
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("platform", pa.string()),
        pa.field("creator_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("description", pa.string()),
        pa.field("hashtags", pa.list_(pa.string())),
        pa.field("language", pa.string()),
        pa.field("duration_s", pa.float64()),
        pa.field("published_at", UTC_TS),
        pa.field("thumbnail", pa.binary()),
        pa.field("content_hash", pa.string()),
        # When the stored title, hashtags and thumbnail were observed: they are the first seen, never a
        # later edit (``miles.sources.first_seen``). Null in rows from before it was kept: the earliest.
        pa.field("first_seen_at", UTC_TS),
    ]
)

# Titles, hashtags and thumbnails observed after the first-seen ones: history, never training text.
VIDEO_VERSIONS = pa.schema(
    [
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("seen_at", UTC_TS, nullable=False),
        pa.field("title", pa.string()),
        pa.field("hashtags", pa.list_(pa.string())),
        pa.field("description", pa.string()),
        pa.field("thumbnail_sha256", pa.string()),
        pa.field("content_hash", pa.string()),
    ]
)

SNAPSHOTS = pa.schema(
    [
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("observed_at", UTC_TS, nullable=False),
        pa.field("views", pa.int64()),
        pa.field("likes", pa.int64()),
        pa.field("comments", pa.int64()),
        pa.field("shares", pa.int64()),
        pa.field("creator_followers", pa.int64()),
    ]
)

REJECTS = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("row", pa.int64(), nullable=False),
        pa.field("video_id", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string()),
        pa.field("ingested_at", UTC_TS),
    ]
)

RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("created_at", UTC_TS),
        pa.field("kind", pa.string()),  # eval | train
        pa.field("head", pa.string()),
        pa.field("moment", pa.string()),
        pa.field("split", pa.string()),  # time | creator | random | all
        pa.field("features", pa.string()),
        pa.field("n_train", pa.int64()),
        pa.field("n_test", pa.int64()),
        pa.field("metrics", pa.string()),  # JSON {metric: {value, ci_low, ci_high}}
        pa.field("config", pa.string()),  # JSON: label spec, head params, encoders, store versions
        pa.field("artifact", pa.string()),  # folder of a saved head, or null
    ]
)

PREDICTIONS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("viral", pa.int64()),
        pa.field("p_viral", pa.float64()),
        pa.field("velocity", pa.float64()),
        pa.field("velocity_pred", pa.float64()),
    ]
)

# Videos that ``miles scrape`` watches: found by ``discover``, fetched on the ladder by ``track``.
TRACKED = pa.schema(
    [
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("platform", pa.string()),
        pa.field("source", pa.string()),  # the listing, search or URL it was found through
        pa.field("discovered_at", UTC_TS),
        pa.field("status", pa.string()),  # tracking | done | gone | failed
        pa.field("failures", pa.int64()),  # failed fetches in a row
        pa.field("last_error", pa.string()),
        pa.field("last_attempt_at", UTC_TS),
    ]
)

# Scores of live videos that ``miles watch`` made: append-only, one per video, moment and head version.
SCORES = pa.schema(
    [
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("moment", pa.string(), nullable=False),  # pre_upload | early_<h>h
        pa.field("head", pa.string(), nullable=False),
        pa.field("head_version", pa.string(), nullable=False),  # when the head was trained
        pa.field("scored_at", UTC_TS),
        pa.field("age_hours", pa.float64()),
        pa.field("p_viral", pa.float64()),
        pa.field("p_low", pa.float64()),
        pa.field("p_high", pa.float64()),
        pa.field("views_expected", pa.float64()),  # at the label age, with its range
        pa.field("views_low", pa.float64()),
        pa.field("views_high", pa.float64()),
        pa.field("alert", pa.bool_()),  # the first score of this video over the alert threshold
    ]
)

SCHEMAS: dict[str, pa.Schema] = {"videos": VIDEOS, "video_versions": VIDEO_VERSIONS, "snapshots": SNAPSHOTS,
                                 "rejects": REJECTS, "runs": RUNS, "predictions": PREDICTIONS, "tracked": TRACKED,
                                 "scores": SCORES}

# Keys for idempotent upserts.
KEYS: dict[str, list[str]] = {
    "videos": ["video_id"],
    "video_versions": ["video_id", "seen_at"],
    "snapshots": ["video_id", "observed_at"],
    "rejects": ["source", "row"],
    "runs": ["run_id"],
    "predictions": ["run_id", "video_id"],
    "tracked": ["video_id"],
    "scores": ["video_id", "moment", "head", "head_version"],
}
