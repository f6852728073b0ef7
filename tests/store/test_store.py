from datetime import datetime, timezone

import pytest

from miles.errors import MilesError
from miles.store import Store, resolve_store_path


def video(vid, title="t", **kw):
    row = {"video_id": vid, "platform": "demo", "creator_id": "c", "title": title, "description": None,
           "hashtags": [], "language": "en", "duration_s": 10.0,
           "published_at": datetime(2024, 1, 1, tzinfo=timezone.utc), "thumbnail": None, "content_hash": title}
    row.update(kw)
    return row


def test_upsert_counts_and_versions(store):
    r = store.upsert("videos", [video("a"), video("b")])
    assert (r.inserted, r.updated, r.unchanged) == (2, 0, 0)
    v = store.version("videos")
    r = store.upsert("videos", [video("a"), video("b")])
    assert (r.inserted, r.updated, r.unchanged) == (0, 0, 2)
    assert store.version("videos") == v  # nothing changed, no new version
    r = store.upsert("videos", [video("a", title="new"), video("c")])
    assert (r.inserted, r.updated, r.unchanged) == (1, 1, 0)
    rows = {x["video_id"]: x for x in store.read("videos").to_pylist()}
    assert rows["a"]["title"] == "new" and len(rows) == 3


def test_insert_only_keeps_first(store):
    t = datetime(2024, 1, 2, tzinfo=timezone.utc)
    snap = {"video_id": "a", "observed_at": t, "views": 1, "likes": None, "comments": None, "shares": None,
            "creator_followers": None}
    assert store.upsert("snapshots", [snap], update=False).inserted == 1
    assert store.upsert("snapshots", [{**snap, "views": 2}], update=False).inserted == 0
    assert store.read("snapshots").to_pylist()[0]["views"] == 1


def test_info_and_missing_tables(store, tmp_path):
    assert store.read("videos").num_rows == 0  # canonical tables read as empty before the first write
    store.upsert("videos", [video("a")])
    info = {r["table"]: r for r in store.info()}
    assert info["videos"]["rows"] == 1 and info["videos"]["bytes"] > 0
    with pytest.raises(KeyError, match="has no table 'nope'"):
        store.table("nope")
    with pytest.raises(MilesError, match="no Miles store"):
        Store.open(tmp_path / "absent", must_exist=True)


def test_store_path_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("MILES_STORE", raising=False)
    assert str(resolve_store_path()) == "miles-store"
    monkeypatch.setenv("MILES_STORE", str(tmp_path / "x"))
    assert resolve_store_path() == str(tmp_path / "x")
    assert resolve_store_path("given") == "given"
    assert resolve_store_path("s3://bucket/miles") == "s3://bucket/miles"


def test_reading_a_missing_store_creates_nothing(tmp_path):
    from miles.store import Store

    s = Store(tmp_path / "nowhere")
    assert s.table_names() == [] and s.count("videos") == 0 and s.read("videos").num_rows == 0
    assert not (tmp_path / "nowhere").exists()
    s.upsert("rejects", [{"source": "x", "row": 1, "reason": "r"}])  # the first write makes it
    assert (tmp_path / "nowhere" / "rejects.lance").is_dir()


def test_the_remembered_version_follows_every_commit(store):
    """Versions are remembered between commits (queries ask many times); back-to-back commits within one
    filesystem tick are still seen."""
    seen = []
    for i in range(12):
        store.upsert("rejects", [{"source": "x", "row": i, "reason": "r"}])
        seen.append(store.version("rejects"))
        assert seen[-1] == store.dataset("rejects").version
    assert seen == sorted(set(seen)) and len(seen) == 12
