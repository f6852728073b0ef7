"""JSON documents whose records sit under a key, and the common TikTok export fields, read as they are."""

import json

import pytest

from miles.sources import ingest
from miles.sources.readers import read

TIKTOK = {"collector": [
    {"id": "7301", "text": "crispy tofu in 3 steps #cooking #fyp", "createTime": 1717243200,
     "authorMeta": {"id": "au1", "name": "chef", "fans": 120500}, "videoMeta": {"duration": 21},
     "hashtags": [{"id": "1", "name": "cooking", "title": ""}, {"id": "2", "name": "fyp"}],
     "playCount": 150200, "diggCount": 9100, "shareCount": 340, "commentCount": 120,
     "webVideoUrl": "https://www.tiktok.com/@chef/video/7301"},
    {"id": "7302", "text": "😂😂😂", "createTime": 1717329600, "authorMeta": {"id": "au1", "fans": 120600},
     "videoMeta": {"duration": 9}, "hashtags": [], "playCount": 800, "diggCount": 20, "shareCount": 0,
     "commentCount": 1},
], "collected": 2}


def test_a_tiktok_scraper_export_maps_without_map(tmp_path):
    path = tmp_path / "tiktok.json"
    path.write_text(json.dumps(TIKTOK, indent=2))  # one document over many lines, not JSON lines
    from miles.store import Store

    store = Store.open(tmp_path / "s")
    summary = ingest([path], store, observed_at="2024-06-10T00:00:00Z", platform="tiktok", progress=False)
    assert summary.new == 2 and summary.n_rejected == 0 and summary.snapshots_added == 2
    v = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    assert v["7301"]["creator_id"] == "au1" and v["7301"]["hashtags"] == ["cooking", "fyp"]
    assert v["7301"]["duration_s"] == 21 and v["7301"]["published_at"].isoformat() == "2024-06-01T12:00:00+00:00"
    assert v["7302"]["title"] == "😂😂😂" and v["7302"]["platform"] == "tiktok"
    s = {r["video_id"]: r for r in store.read("snapshots").to_pylist()}
    assert (s["7301"]["views"], s["7301"]["likes"], s["7301"]["shares"], s["7301"]["comments"]) == \
        (150200, 9100, 340, 120)
    assert s["7301"]["creator_followers"] == 120500


@pytest.mark.parametrize("doc, records, ids", [
    ({"items": [{"id": "a", "title": "x"}, {"id": "b", "title": "y"}], "nextPageToken": "t"}, None, ["a", "b"]),
    ([{"id": "a", "title": "x"}], None, ["a"]),
    ({"id": "solo", "title": "one record"}, None, ["solo"]),
    ({"data": [{"id": "a", "title": "x"}], "related": [{"id": "r", "title": "y"}]}, "data", ["a"]),
])
def test_records_are_found_under_their_key(tmp_path, doc, records, ids):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    rows = list(read(path, "auto", {}, records))
    assert [r.data["id"] for r in rows] == ids and not any(r.error for r in rows)


def test_an_ambiguous_document_asks_for_records_and_a_wrong_key_says_so(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"data": [{"id": "a"}], "related": [{"id": "r"}]}))
    with pytest.raises(ValueError, match="--records KEY"):
        list(read(path, "auto", {}))
    with pytest.raises(ValueError, match="no such key"):
        list(read(path, "auto", {}, "items"))


def test_a_json_file_of_json_lines_still_reads_as_lines(tmp_path):
    path = tmp_path / "lines.json"
    path.write_text('{"id": "a", "title": "x"}\n{"id": "b", "title": "y"}\nnot json\n')
    rows = list(read(path, "auto", {}))
    assert [r.data.get("id") for r in rows[:2]] == ["a", "b"] and "not valid JSON" in rows[2].error
