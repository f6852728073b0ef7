"""Ingest changes nothing silently: every row is stored as it was given, or rejected with its reason."""

import json
import os
import time

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from miles.sources import ingest
from miles.store import Store
from tests.conftest import jpeg_bytes

HEADER = "video_id,title,published_at,observed_at,views,thumbnail\n"


def _rejects(store):
    return store.read("rejects").to_pandas().set_index("video_id")["reason"].to_dict()


def test_bytes_that_are_not_utf8_are_rejected_not_replaced(store, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "a,Caf\xe9 con leche,2024-01-01,2024-01-02,5,\nb,fine,2024-01-01,2024-01-02,6,\n")
                     .encode("latin-1"))
    s = ingest([path], store, progress=False)
    assert (s.stored, s.n_rejected) == (1, 1)
    assert "not valid UTF-8 (byte 0xe9" in _rejects(store)["a"]
    assert "\\xe9" in store.read("rejects").to_pylist()[0]["raw"]  # the raw row shows the byte
    assert "\ufffd" not in "".join(store.read("videos", columns=["title"])["title"].to_pylist())


def test_long_titles_and_nul_bytes_are_rejected_with_the_limit(store, tmp_path):
    path = tmp_path / "long.jsonl"
    rows = [{"video_id": "long", "title": "x" * 5001, "published_at": "2024-01-01"},
            {"video_id": "nul\x00id", "title": "t", "published_at": "2024-01-01"},
            {"video_id": "ok", "title": "y" * 5000, "published_at": "2024-01-01"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    s = ingest([path], store, progress=False)
    assert (s.stored, s.n_rejected) == (1, 2)
    reasons = " | ".join(r["reason"] for r in store.read("rejects").to_pylist())
    assert "5,001 characters, over the limit of 5,000" in reasons and "NUL byte" in reasons
    assert store.read("videos", columns=["title"])["title"].to_pylist() == ["y" * 5000]


def test_parquet_binary_titles_and_out_of_range_timestamps(store, tmp_path):
    from datetime import datetime, timezone

    t = pa.table({"video_id": ["a", "b", "c"], "title": pa.array([b"ok \xf0\x9f\x94\xa5", b"\xff\xfe", b"x"]),
                  "published_at": pa.array([datetime(2024, 1, 1, tzinfo=timezone.utc),
                                            datetime(2024, 1, 1, tzinfo=timezone.utc),
                                            datetime(1, 1, 1, tzinfo=timezone.utc)], pa.timestamp("us", "UTC")),
                  "observed_at": ["2024-01-02"] * 3, "views": [1, 2, 3]})
    pq.write_table(t, tmp_path / "t.parquet")
    s = ingest([tmp_path / "t.parquet"], store, progress=False)
    assert (s.stored, s.n_rejected) == (1, 2)
    assert store.read("videos", columns=["title"])["title"].to_pylist() == ["ok 🔥"]
    reasons = _rejects(store)
    assert "bytes that are not UTF-8" in reasons["b"] and "outside 1970..2100" in reasons["c"]


def test_a_conflicting_count_is_reported_not_counted_as_stored(store, tmp_path):
    (tmp_path / "a.csv").write_text(HEADER + "v,t,2024-01-01,2024-01-02,100,\n")
    (tmp_path / "b.csv").write_text(HEADER + "v,t,2024-01-01,2024-01-02,120,\nv,t,2024-01-01,2024-01-03,200,\n")
    ingest([tmp_path / "a.csv"], store, progress=False)
    s = ingest([tmp_path / "b.csv"], store, progress=False)
    assert s.snapshots_added == 1 and "conflicting snapshot" in s.line()
    assert sorted(store.read("snapshots", columns=["views"])["views"].to_pylist()) == [100, 200]
    assert "views 120 here, 100 stored" in store.read("rejects").to_pylist()[0]["reason"]


def _thumb_csv(folder, values: dict[str, str]):
    path = folder / "in.csv"
    path.write_text(HEADER + "".join(f"{vid},t,2024-01-01,2024-01-02,1,{p}\n" for vid, p in values.items()))
    return path


def test_hostile_thumbnail_paths_finish_in_seconds_with_reasons(store, tmp_path):
    inside = tmp_path / "in"
    inside.mkdir()
    (inside / "ok.jpg").write_bytes(jpeg_bytes())
    (inside / "folder.jpg").mkdir()
    os.mkfifo(inside / "fifo.jpg")
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(jpeg_bytes())
    path = _thumb_csv(inside, {"ok": "ok.jpg", "zero": "/dev/zero", "fifo": "fifo.jpg", "dir": "folder.jpg",
                               "up": "../outside.jpg", "abs": str(outside)})
    t = time.perf_counter()
    s = ingest([path], store, progress=False)
    assert time.perf_counter() - t < 20
    assert s.stored == 6 and s.n_rejected == 0
    stored = store.read("videos", columns=["video_id", "thumbnail"]).to_pandas().set_index("video_id")["thumbnail"]
    assert stored["ok"] is not None and stored.drop("ok").isna().all()
    reasons = _rejects(store)
    assert "a FIFO" in reasons["fifo"] and "a folder" in reasons["dir"]
    for vid in ("zero", "up", "abs"):
        assert "outside the input's folder" in reasons[vid], reasons[vid]
    other = Store.open(tmp_path / "s2")
    ingest([path], other, progress=False, allow_absolute_paths=True)
    reasons = _rejects(other)
    assert "a device" in reasons["zero"] and "abs" not in reasons and "up" not in reasons


COLUMNS = ["video_id", "title", "published_at", "observed_at", "views"]
cell = st.one_of(st.text(max_size=10), st.binary(max_size=6).map(lambda b: b.decode("latin-1")),
                 st.integers(-10**6, 10**12).map(str), st.sampled_from(["", "2024-01-01", "1e400", "x" * 5001]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell, min_size=5, max_size=5), min_size=1, max_size=8), st.sampled_from(["csv", "jsonl"]),
       st.sampled_from(["utf-8", "latin-1"]))
@example(rows=[["\x80", "", "", "", ""]], fmt="csv", encoding="latin-1")  # a video_id that is not UTF-8
def test_read_equals_stored_plus_rejected_and_nothing_is_altered(tmp_path_factory, rows, fmt, encoding):
    """Random rows, in CSV (either encoding) or JSONL: every row is counted once, and every stored title is
    exactly the title given (stripped of surrounding space), never replaced or cut."""
    folder = tmp_path_factory.mktemp("prop")
    frame = pd.DataFrame(rows, columns=COLUMNS)
    path = folder / f"in.{fmt}"
    if fmt == "csv":
        data = frame.to_csv(index=False)
        try:
            path.write_bytes(data.encode(encoding))
        except UnicodeEncodeError:
            path.write_bytes(data.encode("utf-8"))
    else:
        path.write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")) + "\n")
    store = Store.open(folder / "store")
    s = ingest([path], store, progress=False)
    assert s.read == s.stored + s.n_rejected
    given_titles = {str(t).strip() for t in frame["title"]}
    for title in store.read("videos", columns=["title"])["title"].to_pylist():
        assert title is None or (title in given_titles and len(title) <= 5000)


def test_a_lone_surrogate_is_one_reject_never_an_aborted_file(store, tmp_path):
    """A JSON escape of half a character (\\ud800) cannot be stored as UTF-8: that row is rejected with the
    reason, the file's other rows are stored (JSONL and a JSON document alike)."""
    rows = [{"video_id": "half", "title": "bad \ud800 title", "published_at": "2024-01-01"},
            {"video_id": "tag", "title": "t", "hashtags": ["ok", "x\udfff"], "published_at": "2024-01-01"},
            {"video_id": "id\ud83d", "title": "t", "published_at": "2024-01-01"},
            {"video_id": "ok", "title": "fine", "published_at": "2024-01-01", "bad\ud800key": 1}]
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")  # ASCII: \ud800 escapes
    (tmp_path / "in.json").write_text(json.dumps([{**r, "video_id": r["video_id"] + "2"} for r in rows]))
    s = ingest([tmp_path / "in.jsonl", tmp_path / "in.json"], store, progress=False)
    assert (s.read, s.stored, s.n_rejected) == (8, 2, 6)
    assert sorted(store.read("videos", columns=["video_id"])["video_id"].to_pylist()) == ["ok", "ok2"]
    rejects = {r["video_id"]: r for r in store.read("rejects").to_pylist()}
    assert "lone surrogate \\ud800 at character 4" in rejects["half"]["reason"]
    assert "bad hashtags" in rejects["tag"]["reason"] and "lone surrogate \\udfff" in rejects["tag"]["reason"]
    assert "bad video_id" in rejects["id\\ud83d"]["reason"]  # the id shown as it was escaped
    assert "\\ud800" in rejects["half"]["raw"]


def test_a_cell_of_100k_hashtags_is_cut_to_the_cap_with_a_note(store, tmp_path):
    from miles.sources.parse import MAX_HASHTAGS

    tags = " ".join(f"#t{i}" for i in range(100_000))
    (tmp_path / "many.csv").write_text(f"video_id,title,hashtags,published_at\nmany,t,{tags},2024-01-01\n"
                                       "few,t,#a #b #a,2024-01-01\n")
    t = time.perf_counter()
    s = ingest([tmp_path / "many.csv"], store, progress=False)
    assert time.perf_counter() - t < 10  # the parse itself is under 0.5 s (test_parse); 39 s before
    assert (s.stored, s.n_rejected) == (2, 0) and "too many hashtags" in s.line()
    stored = store.read("videos", columns=["video_id", "hashtags"]).to_pandas().set_index("video_id")["hashtags"]
    assert list(stored["many"]) == [f"t{i}" for i in range(MAX_HASHTAGS)] and list(stored["few"]) == ["a", "b"]
    assert "stored the first 100 of 100,000" in _rejects(store)["many"]


def test_dates_out_of_range_are_rejects_in_every_format(store, tmp_path):
    """yt-dlp's upload_date (text or a number), unix seconds and ISO 8601: none becomes a 1970 date."""
    rows = [{"video_id": "y3000", "upload_date": "30000101"}, {"video_id": "m13", "upload_date": 20261340},
            {"video_id": "y1969", "upload_date": "19691231"}, {"video_id": "feb30", "upload_date": "20240230"},
            {"video_id": "neg", "timestamp": -86400}, {"video_id": "iso", "published_at": "1970-01-01T00:30+01:00"},
            {"video_id": "ok", "upload_date": "20240305"}]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps({**r, "title": "t"}) for r in rows) + "\n")
    s = ingest([tmp_path / "d.jsonl"], store, progress=False)
    assert (s.stored, s.n_rejected) == (1, 6)
    assert [str(t) for t in store.read("videos")["published_at"].to_pylist()] == ["2024-03-05 00:00:00+00:00"]
    assert all("bad published_at" in reason for reason in _rejects(store).values())
