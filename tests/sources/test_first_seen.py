"""A video's title, hashtags and thumbnail are those first observed; later edits are history only."""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa

from miles.sources import ingest
from miles.sources.first_seen import first_seen
from miles.store import Store
from miles.store.text import content_hash
from tests.conftest import jpeg_bytes

T0 = datetime(2024, 3, 2, 10, tzinfo=timezone.utc)
T1 = datetime(2024, 3, 20, 10, tzinfo=timezone.utc)
HEADER = ["video_id", "creator_id", "title", "description", "hashtags", "published_at", "observed_at", "views",
          "thumbnail"]
RED, BLUE = jpeg_bytes(colour=(200, 40, 40)), jpeg_bytes(colour=(40, 40, 200))


def write_csv(path: Path, rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def crawls(folder: Path) -> tuple[Path, Path]:
    """Three videos seen at T0; at T1 video a's title and hashtags were edited and b's thumbnail changed."""
    (folder / "img").mkdir(parents=True)
    for name, data in (("a.jpg", RED), ("b.jpg", RED), ("b2.jpg", BLUE), ("c.jpg", BLUE)):
        (folder / "img" / name).write_bytes(data)
    pub = "2024-03-01T10:00:00Z"
    first = write_csv(folder / "t0.csv", [
        ["a", "c1", "Wait for it", "a cake", "#fyp", pub, T0.isoformat(), 100, "img/a.jpg"],
        ["b", "c1", "Crispy tofu", "tofu", "#food #easy", pub, T0.isoformat(), 200, "img/b.jpg"],
        ["c", "c2", "Leg day", "gym", "", pub, T0.isoformat(), 300, "img/c.jpg"],
    ])
    later = write_csv(folder / "t1.csv", [
        ["a", "c1", "Wait for it | 10M VIEWS", "a cake", "#fyp #viral", pub, T1.isoformat(), 10_000_000, "img/a.jpg"],
        ["b", "c1", "Crispy tofu", "tofu", "#food #easy", pub, T1.isoformat(), 900, "img/b2.jpg"],
        ["c", "c2", "Leg day", "gym", "", pub, T1.isoformat(), 400, "img/c.jpg"],
    ])
    return first, later


T0_CONTENT = {"a": ("Wait for it", ["fyp"], RED, "a cake"), "b": ("Crispy tofu", ["food", "easy"], RED, "tofu"),
              "c": ("Leg day", [], BLUE, "gym")}
EDITS = [  # the video_versions rows the T1 crawl leaves
    {"video_id": "a", "seen_at": T1, "title": "Wait for it | 10M VIEWS", "hashtags": ["fyp", "viral"],
     "description": "a cake", "thumbnail_sha256": hashlib.sha256(RED).hexdigest(),
     "content_hash": content_hash("Wait for it | 10M VIEWS", ["fyp", "viral"], "a cake", RED)},
    {"video_id": "b", "seen_at": T1, "title": "Crispy tofu", "hashtags": ["food", "easy"], "description": "tofu",
     "thumbnail_sha256": hashlib.sha256(BLUE).hexdigest(),
     "content_hash": content_hash("Crispy tofu", ["food", "easy"], "tofu", BLUE)},
]


def videos(store: Store) -> dict[str, dict]:
    return {r["video_id"]: r for r in store.read("videos").to_pylist()}


def versions(store: Store) -> list[dict]:
    return sorted(store.read("video_versions").to_pylist(), key=lambda r: (r["video_id"], r["seen_at"]))


def assert_first_seen_content(store: Store) -> None:
    for vid, (title, tags, thumb, desc) in T0_CONTENT.items():
        v = videos(store)[vid]
        assert (v["title"], v["hashtags"], v["thumbnail"], v["first_seen_at"]) == (title, tags, thumb, T0)
        assert v["content_hash"] == content_hash(title, tags, desc, thumb)


def test_later_edits_are_history_not_content(store, tmp_path):
    first, later = crawls(tmp_path / "in")
    ingest([first], store, progress=False)
    hashes = {vid: v["content_hash"] for vid, v in videos(store).items()}
    s = ingest([later], store, progress=False)
    assert (s.new, s.updated, s.unchanged, s.snapshots_added, s.versions_added) == (0, 0, 3, 3, 2)
    assert "later versions +2" in s.line()
    assert_first_seen_content(store)
    assert {vid: v["content_hash"] for vid, v in videos(store).items()} == hashes
    assert versions(store) == EDITS
    before = {t: (store.version(t), store.count(t)) for t in store.table_names()}
    s = ingest([later], store, progress=False)  # the same file again adds nothing
    assert (s.new, s.updated, s.versions_added, s.snapshots_added) == (0, 0, 0, 0)
    assert {t: (store.version(t), store.count(t)) for t in store.table_names()} == before


def test_an_older_crawl_ingested_later_moves_the_content_back(store, tmp_path):
    first, later = crawls(tmp_path / "in")
    s = ingest([later], store, progress=False)
    assert {v["first_seen_at"] for v in videos(store).values()} == {T1}
    s = ingest([first], store, progress=False)
    assert (s.new, s.updated, s.unchanged, s.versions_added) == (0, 3, 0, 2)  # c: only first_seen_at moved
    assert_first_seen_content(store)
    assert versions(store) == EDITS  # the displaced T1 content, as the forward order records it
    forward = Store.open(tmp_path / "forward")
    ingest([first], forward, progress=False)
    ingest([later], forward, progress=False)
    assert videos(forward) == videos(store) and versions(forward) == versions(store)


def test_observations_in_one_input(tmp_path):
    """Out of order in one file: the earliest observation's content, the last row's other columns; a
    counts-only row shows no content and leaves no version."""
    t2 = T1 + timedelta(days=1)
    row = {"video_id": "v", "platform": "demo", "creator_id": "c", "title": "x", "description": "d", "hashtags": [],
           "language": "en", "duration_s": 10.0, "published_at": T0, "thumbnail": None, "content_hash": "?"}
    obs = [(t2, {**row, "title": "late", "description": "last row"}), (T0, {**row, "title": "early"}),
           (T1, {**row, "title": None, "description": "counts only"})]
    merged = first_seen({"v": obs}, {})
    assert len(merged.videos) == 1
    v = merged.videos[0]
    assert (v["title"], v["description"], v["first_seen_at"]) == ("early", "counts only", T0)
    assert v["content_hash"] == content_hash("early", [], "counts only", None)
    assert [(r["seen_at"], r["title"], r["description"]) for r in merged.versions] == [(t2, "late", "last row")]
    # a stored row from before first_seen_at was kept (null) counts as the earliest: its content stays
    stored = {"v": {**row, "title": "stored", "first_seen_at": None}}
    merged = first_seen({"v": obs}, stored)
    assert (merged.videos[0]["title"], merged.videos[0]["first_seen_at"]) == ("stored", None)
    assert [(r["seen_at"], r["title"]) for r in merged.versions] == [(t2, "late"), (T0, "early")]


def test_a_store_without_first_seen_at_is_migrated(tmp_path):
    """A videos table written before first_seen_at existed takes new rows: the column is added (null in
    the old rows), and an old row's content stays."""
    from miles.store import VIDEOS

    store = Store.open(tmp_path / "store")
    old = pa.schema([f for f in VIDEOS if f.name != "first_seen_at"])
    row = {"video_id": "a", "platform": "demo", "creator_id": "c1", "title": "Wait for it", "description": "a cake",
           "hashtags": ["fyp"], "language": None, "duration_s": None, "published_at": T0 - timedelta(days=1),
           "thumbnail": RED, "content_hash": "old"}
    store.db.create_table("videos", data=pa.Table.from_pylist([row], schema=old))
    _, later = crawls(tmp_path / "in")
    s = ingest([later], store, progress=False)
    assert (s.new, s.updated, s.versions_added) == (2, 1, 1)
    assert "first_seen_at" in store.dataset("videos").schema.names
    v = videos(store)
    assert (v["a"]["title"], v["a"]["hashtags"], v["a"]["first_seen_at"]) == ("Wait for it", ["fyp"], None)
    assert v["a"]["content_hash"] == content_hash("Wait for it", ["fyp"], "a cake", RED)  # recomputed
    assert v["b"]["first_seen_at"] == T1 and versions(store) == EDITS[:1]


def test_a_later_crawl_leaves_training_rows_unchanged(tmp_path):
    """The leak this guards against: a month after the demo's last crawl (well past the 168 h label age),
    the most viewed videos have titles and hashtags edited to brag about their views. The pre_upload
    training rows must read what the videos had at upload, so they do not change."""
    from miles.heads.dataset import build_features
    from tests.conftest import ingested_store

    store = ingested_store(tmp_path, 120)
    columns = ["video_id", "text", "title_chars", "title_words", "hashtag_count"]
    before = build_features(store, "pre_upload").frame[columns].reset_index(drop=True)
    demo_csv = tmp_path / "src" / "videos.csv"
    with open(demo_csv, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    last = {r["video_id"]: r for r in rows if r["video_id"] in set(before["video_id"])}  # rows in time order
    top = sorted(last, key=lambda v: -int(last[v]["views"]))[:12]
    when = max(datetime.fromisoformat(r["observed_at"]) for r in rows) + timedelta(days=30)
    crawl = [{**last[v], "title": last[v]["title"] + " | 10M VIEWS", "hashtags": last[v]["hashtags"] + " #viral",
              "observed_at": when.isoformat(), "views": str(int(last[v]["views"]) * 3), "creator_followers": ""}
             for v in top]
    later = demo_csv.with_name("later.csv")  # beside the demo file: its thumbnail paths resolve the same
    with open(later, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(crawl)
    s = ingest([later], store, progress=False)
    after = build_features(store, "pre_upload").frame[columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(after, before)
    assert (s.stored, s.snapshots_added, s.versions_added) == (12, 12, 12)
    assert {r["title"] for r in store.read("video_versions").to_pylist()} == {c["title"] for c in crawl}


def test_description_hashtags_are_not_hashtags(store, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("video_id,title,description,published_at\n"
                    "x,Leg day,went viral #trending #fyp,2024-01-01\n"
                    "y,Arm day #gym,so #trending,2024-01-01\n", encoding="utf-8")
    ingest([path], store, progress=False)
    v = videos(store)
    assert v["x"]["hashtags"] == [] and v["y"]["hashtags"] == ["gym"]
