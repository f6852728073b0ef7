"""Miles maps what yt-dlp returns: the keys of the installed yt-dlp's own YouTube Shorts test cases."""

import json
import subprocess
import sys

import pytest

from miles.sources import ingest
from miles.sources.columns import resolve_columns

NEEDED = {"video_id", "title", "description", "hashtags", "creator_id", "creator_followers", "duration_s",
          "published_at", "views", "likes", "thumbnail"}


def shorts_keys() -> set[str]:
    from yt_dlp.extractor.youtube import YoutubeIE

    cases = [t["info_dict"] for t in YoutubeIE._TESTS if "/shorts/" in t.get("url", "") and t.get("info_dict")]
    assert cases, "the installed yt-dlp has no YouTube Shorts test case with an info_dict"
    return set().union(*cases)


def test_miles_maps_every_key_it_needs_from_a_real_shorts_extraction():
    keys = shorts_keys()
    mapped = resolve_columns(keys)
    assert NEEDED <= set(mapped), NEEDED - set(mapped)
    assert mapped["creator_id"] == "channel_id" and mapped["published_at"] == "timestamp"
    assert mapped["creator_followers"] == "channel_follower_count" and mapped["views"] == "view_count"


def test_the_simulated_platform_uses_exactly_those_keys(world, server, client):
    world.clock.advance(days=3)
    vid = next(iter(world.videos))
    _, page = world.page(vid)
    assert set(page) <= shorts_keys(), set(page) - shorts_keys()
    info = client.video(server.url(f"/sim/video/{vid}"))
    assert NEEDED <= set(resolve_columns({k for k in info if k in shorts_keys()}))


def test_a_recorded_info_json_replays_through_yt_dlp_into_the_store(world, server, client, tmp_path):
    """``yt-dlp --load-info-json`` on a recorded video (its thumbnail served from 127.0.0.1), then ingest."""
    world.clock.advance(days=3)
    vid = next(iter(world.videos))
    recorded = tmp_path / "recorded.info.json"
    recorded.write_text(json.dumps(client.video(server.url(f"/sim/video/{vid}"))))
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "yt_dlp", "--load-info-json", str(recorded), "--skip-download",
                          "--write-thumbnail", "--write-info-json", "--ignore-no-formats-error", "--quiet",
                          "-o", str(out / "%(id)s.%(ext)s")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (out / f"{vid}.jpg").read_bytes() == world.videos[vid].thumbnail
    from miles.store import Store

    store = Store.open(tmp_path / "s")
    summary = ingest([out], store, observed_at=world.clock(), progress=False)
    assert summary.new == 1 and summary.n_rejected == 0
    row = store.read("videos").to_pylist()[0]
    assert row["video_id"] == vid and row["thumbnail"] == world.videos[vid].thumbnail
    assert row["creator_id"] == world.videos[vid].creator


@pytest.mark.network
def test_live_discovery_of_a_real_channel(tmp_path):
    """The only test that leaves this machine: skipped without internet (run with ``-m network``)."""
    import socket

    try:
        socket.create_connection(("www.youtube.com", 443), timeout=3).close()
    except OSError:
        pytest.skip("no internet: the live yt-dlp test needs www.youtube.com")
    from miles.collect.ytdlp import Blocked, Client

    try:
        found = Client(pause=1).listing("https://www.youtube.com/@YouTube/shorts", limit=3)
    except Blocked as err:
        pytest.skip(f"YouTube asks this machine to stop: {err}")
    assert found and all(p == "youtube" for _, _, p in found)
