import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miles.sources import ingest
from miles.store import Store
from tests.sources import fixtures


def test_nasty_csv(store, tmp_path):
    path = fixtures.nasty_csv(tmp_path / "in")
    s = ingest([path], store, progress=False)
    assert s.read == len(fixtures.ROWS)
    assert s.stored == len(fixtures.STORED)
    assert s.n_rejected == fixtures.N_REJECTED
    assert s.read == s.stored + s.n_rejected
    videos = store.read("videos").to_pylist()
    assert {v["video_id"] for v in videos} == fixtures.STORED
    by_id = {v["video_id"]: v for v in videos}
    assert by_id["v1"]["thumbnail"] is not None and by_id["v1"]["creator_id"] == "c1"
    assert by_id["v1"]["hashtags"] == ["fyp"]
    assert by_id["v8"]["thumbnail"] is None and by_id["v9"]["thumbnail"] is None
    assert by_id["v7"]["title"] == "🔥🔥🔥"
    assert by_id["v11"]["duration_s"] == 45.0
    rejects = {(r["row"], r["video_id"]): r["reason"] for r in store.read("rejects").to_pylist()}
    assert "missing video_id" in rejects[(2, None)]
    assert "bad published_at" in rejects[(3, "v3")] and "'yesterday'" in rejects[(3, "v3")]
    assert "bad views" in rejects[(4, "v4")] and "-5" in rejects[(4, "v4")]
    assert "bad likes" in rejects[(5, "v5")] and "'lots'" in rejects[(5, "v5")]
    assert "duplicate video_id 'v1'" in rejects[(6, "v1")]
    assert "not a decodable image" in rejects[(8, "v8")]
    assert "decompression bomb" in rejects[(9, "v9")]
    assert "after observed_at" in rejects[(10, "v10")]
    assert "fields" in rejects[(12, "v12")]
    raw = json.loads(store.read("rejects", filter="row = 4").to_pylist()[0]["raw"])
    assert raw["view_count"] == "-5"
    snaps = {r["video_id"]: r for r in store.read("snapshots").to_pylist()}
    assert snaps["v11"]["views"] == 1200 and snaps["v1"]["likes"] == 50


def test_reingest_is_idempotent(store, tmp_path):
    path = fixtures.nasty_csv(tmp_path / "in")
    ingest([path], store, progress=False)
    versions = {t: store.version(t) for t in store.table_names()}
    counts = {t: store.count(t) for t in store.table_names()}
    s = ingest([path], store, progress=False)
    assert s.new == 0 and s.updated == 0 and s.snapshots_added == 0
    assert {t: store.count(t) for t in store.table_names()} == counts
    assert {t: store.version(t) for t in store.table_names()} == versions


def test_new_observation_and_changed_title(store, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    a = folder / "a.csv"
    a.write_text("video_id,title,published_at,observed_at,views\nx,Old,2024-01-01,2024-01-02,10\n")
    ingest([a], store, progress=False)
    old_hash = store.read("videos").to_pylist()[0]["content_hash"]
    b = folder / "b.csv"
    b.write_text("video_id,title,published_at,observed_at,views\nx,New,2024-01-01,2024-01-03,50\n")
    s = ingest([b], store, progress=False)
    assert (s.new, s.updated, s.snapshots_added, s.versions_added) == (0, 0, 1, 1)
    video = store.read("videos").to_pylist()  # the title first seen stays; the later one is history only
    assert len(video) == 1 and video[0]["title"] == "Old" and video[0]["content_hash"] == old_hash
    assert [r["title"] for r in store.read("video_versions").to_pylist()] == ["New"]
    assert sorted(r["views"] for r in store.read("snapshots").to_pylist()) == [10, 50]


def test_jsonl_nested_and_bad_lines(store, tmp_path):
    path = fixtures.nasty_jsonl(tmp_path / "in")
    s = ingest([path], store, observed_at="2024-03-05T00:00:00Z", progress=False)
    assert (s.read, s.stored, s.n_rejected) == (5, 2, 3)
    v = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    assert v["t1"]["creator_id"] == "a1" and v["t1"]["duration_s"] == 15.0 and v["t1"]["hashtags"] == ["fyp"]
    snap = store.read("snapshots").to_pylist()
    assert len(snap) == 1 and snap[0]["views"] == 5000 and snap[0]["creator_followers"] == 1200
    reasons = sorted(r["reason"] for r in store.read("rejects").to_pylist())
    assert any("not valid JSON" in r for r in reasons) and any("not an object" in r for r in reasons)
    assert any("bad views" in r for r in reasons)


def test_counts_without_observation_time_are_counted(store, tmp_path):
    path = fixtures.nasty_jsonl(tmp_path / "in")
    s = ingest([path], store, progress=False)
    assert s.snapshots_skipped == 1 and s.snapshots_added == 0
    assert "pass --observed-at" in s.line()


def test_parquet_with_map(store, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"key": ["p1", "p2"], "n": [5, -1], "when": ["20240101", "20240102"],
                             "seen": ["2024-02-01T00:00:00Z"] * 2}), path)
    s = ingest([path], store, mapping=["video_id=key", "views=n", "published_at=when", "observed_at=seen"],
               progress=False)
    assert (s.stored, s.n_rejected) == (1, 1)
    assert store.read("snapshots").to_pylist()[0]["views"] == 5


def test_map_to_missing_column_is_clear(store, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,title\n1,x\n")
    with pytest.raises(ValueError, match="--map names columns that are not there: views=plays"):
        ingest([path], store, mapping=["views=plays"], progress=False)
    with pytest.raises(ValueError, match="unknown canonical column 'viewz'"):
        ingest([path], store, mapping=["viewz=plays"], progress=False)


def test_ytdlp_folder(store, tmp_path):
    folder = fixtures.ytdlp_folder(tmp_path / "yt")
    s = ingest([folder], store, progress=False)
    assert (s.read, s.stored, s.n_rejected) == (3, 2, 1)
    v = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    rick = v["dQw4w9WgXcQ"]
    assert rick["platform"] == "youtube" and rick["creator_id"] == "UCuAXFkgsw1L7xaCfnd5JJOw"
    assert rick["thumbnail"] is not None and rick["hashtags"] == ["music", "80s"]
    assert rick["published_at"].timestamp() == 1709287200
    assert v["abc123"]["thumbnail"] is None
    snaps = {r["video_id"]: r for r in store.read("snapshots").to_pylist()}
    assert snaps["dQw4w9WgXcQ"]["observed_at"].timestamp() == 1709460000
    assert snaps["dQw4w9WgXcQ"]["creator_followers"] == 4_000_000


def test_smp_layout(store, tmp_path):
    folder = fixtures.smp_folder(tmp_path / "smp")
    s = ingest([folder], store, observed_at="2023-09-01T00:00:00Z", progress=False)
    assert (s.read, s.stored, s.n_rejected) == (2, 1, 1)
    v = store.read("videos").to_pylist()[0]
    assert v["video_id"] == "POST1" and v["creator_id"] == "USER1" and v["platform"] == "tiktok"
    assert v["hashtags"] == ["Woodworking", "Craft"] and v["duration_s"] == 63.0
    snap = store.read("snapshots").to_pylist()[0]
    assert snap["views"] == 2**10 - 1 and snap["creator_followers"] == 70200


def test_thumbnails_dir(store, tmp_path):
    from tests.conftest import jpeg_bytes

    thumbs = tmp_path / "covers"
    thumbs.mkdir()
    (thumbs / "b1.jpg").write_bytes(jpeg_bytes())
    path = tmp_path / "b.csv"
    path.write_text("bvid,title,pub_seconds_ago,view_count\nb1,封面,3600,100\nb2,无图,7200,5\n", encoding="utf-8")
    ingest([path], store, thumbnails=thumbs, observed_at="2025-06-20T00:00:00Z", progress=False)
    v = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    assert v["b1"]["thumbnail"] is not None and v["b2"]["thumbnail"] is None
    assert v["b1"]["published_at"].isoformat() == "2025-06-19T23:00:00+00:00"


def test_batches_stream(store, tmp_path):
    path = tmp_path / "many.csv"
    lines = ["video_id,title,published_at,observed_at,views"]
    lines += [f"id{i},t{i},2024-01-01,2024-01-02,{i}" for i in range(250)]
    path.write_text("\n".join(lines) + "\n")
    s = ingest([path], store, batch_size=64, progress=False)
    assert (s.stored, s.new) == (250, 250)
    assert store.count("videos") == 250 and store.count("snapshots") == 250


def test_many_small_batches_leave_few_fragments(store, tmp_path):
    """A fragment a batch would make every later read walk thousands of them (1M videos: 1,000 fragments,
    and a filtered read cost 0.4 s per fragment); ingest merges them once it has written."""
    path = tmp_path / "many.csv"
    lines = ["video_id,title,published_at,observed_at,views"]
    lines += [f"id{i},t{i},2024-01-01,2024-01-02,{i}" for i in range(66)]
    path.write_text("\n".join(lines) + "\n")
    assert ingest([path], store, batch_size=1, progress=False).stored == 66  # a fragment a batch: 66 > 64
    assert store.count("videos") == 66 and store.count("snapshots") == 66
    assert len(store.dataset("videos").get_fragments()) <= 2 and len(store.dataset("snapshots").get_fragments()) <= 2


COLUMNS = ["video_id", "title", "published_at", "observed_at", "views", "likes", "duration", "thumbnail_path"]
junk = st.one_of(st.text(max_size=12), st.integers(-10**20, 10**20).map(str), st.floats().map(str),
                 st.sampled_from(["", "nan", "-1", "1e400", "2024-02-30", "20241301", "0:61", "../../etc/passwd"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(junk, min_size=len(COLUMNS), max_size=len(COLUMNS)), min_size=1, max_size=8))
def test_random_junk_never_raises(tmp_path_factory, rows):
    import csv

    folder = tmp_path_factory.mktemp("junk")
    path = folder / "junk.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerows(rows)
    store = Store.open(folder / "store")
    s = ingest([path], store, progress=False)
    assert s.read == s.stored + s.n_rejected
    assert store.count("rejects") >= s.n_rejected
