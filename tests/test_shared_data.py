"""Ingest the real development sets beside the repository (skipped where they are absent)."""

import pytest

from miles.sources import ingest
from tests.conftest import shared

pytestmark = pytest.mark.shared_data


def test_smp_video(store):
    s = ingest([shared("smp-video-2025")], store, observed_at="2023-09-15T00:00:00Z", progress=False)
    assert s.read == 4000 and s.read == s.stored + s.n_rejected
    assert s.stored >= 3990
    assert store.read("videos", columns=["creator_id"]).to_pandas()["creator_id"].nunique() > 3000
    assert store.count("snapshots") == s.stored


def test_korean_shorts_csv(store):
    path = shared("yt-shorts-kr-20k") / "youtube_shorts_data_CLEAN.csv"
    s = ingest([path], store, mapping=["video_id=videoId", "views=viewCount"], observed_at="2026-01-01T00:00:00Z",
               platform="youtube", progress=False)
    assert s.read == 20639 and s.stored + s.n_rejected == s.read
    titles = store.read("videos", columns=["title"]).to_pandas()["title"]
    assert titles.str.contains("[가-힣]", regex=True).mean() > 0.4  # Korean and English titles mixed
    assert "주식 단타야수의 세계에서 년간 생존한 비법" in set(titles)


def test_bilibili_covers(store):
    folder = shared("bilibili-covers-dev")
    s = ingest([folder / "videos.csv"], store, thumbnails=folder / "covers", observed_at="2025-06-20T00:00:00Z",
               platform="bilibili", mapping=["creator_id=uploader_name"], progress=False)
    assert s.read == 946 and s.stored + s.n_rejected == s.read
    v = store.read("videos", columns=["thumbnail", "published_at"]).to_pandas()
    assert v["thumbnail"].notna().mean() > 0.95 and v["published_at"].notna().all()
