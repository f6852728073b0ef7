"""``--via youtube-api``: repeated counts from a Data API served on 127.0.0.1 from the simulated world."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from miles.collect.discover import discover
from miles.collect.ladder import Ladder
from miles.collect.track import track
from miles.collect.youtube_api import DataAPI
from miles.errors import MilesError
from tests.collect.conftest import channels


class FakeAPI:
    """videos.list and channels.list as the YouTube Data API v3 shapes them, for the world's videos."""

    def __init__(self, world):
        self.world, self.calls, self.error = world, [], None
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                url = urlparse(self.path)
                q = parse_qs(url.query)
                api.calls.append((url.path, q["id"][0].split(",")))
                status, body = api.answer(url.path, q)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/youtube/v3"

    def answer(self, path, q):
        assert q["key"] == ["test-key"]
        if self.error:
            return self.error
        ids = q["id"][0].split(",")
        if path.endswith("/channels"):
            return 200, {"items": [{"id": c, "statistics": {"subscriberCount": str(self.world.creators[c])}}
                                   for c in ids if c in self.world.creators]}
        items = []
        for vid in ids:
            status, page = self.world.page(vid)
            if status != 200:
                continue  # the API leaves out what is private or removed
            v = self.world.videos[vid]
            items.append({"kind": "youtube#video", "id": vid, "snippet": {
                "publishedAt": v.published.strftime("%Y-%m-%dT%H:%M:%SZ"), "channelId": v.creator, "title": v.title,
                "description": page["description"], "tags": v.tags,
                "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/x/default.jpg"}}},
                "contentDetails": {"duration": f"PT{int(v.duration)}S"},
                "statistics": {"viewCount": str(page["view_count"]), "likeCount": str(page["like_count"])}})
        return 200, {"items": items}


@pytest.fixture
def youtube(world, server, client, store):
    """A store whose tracked videos are YouTube videos, fetched once through yt-dlp."""
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    rows = store.read("tracked").to_pylist()
    store.upsert("tracked", [{**r, "platform": "youtube"} for r in rows])
    track(store, Ladder.parse(), client=client, now=world.clock)
    api = FakeAPI(world)
    yield api
    api.httpd.shutdown()


def test_repeated_counts_come_from_the_api_fifty_at_a_time(world, server, client, store, youtube):
    before_pages = server.requests
    first = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    world.clock.advance(days=4)
    gone = next(iter(world.videos))
    world.videos[gone].removed_h = 24.0
    s = track(store, Ladder.parse(), client=client, now=world.clock, api=DataAPI("test-key", base=youtube.base))
    assert server.requests == before_pages  # nothing through yt-dlp
    assert [p for p, _ in youtube.calls] == ["/youtube/v3/videos", "/youtube/v3/channels"]
    assert s.fetched == len(world.videos) - 1 and s.gone == 1
    snaps = [r for r in store.read("snapshots").to_pylist() if r["observed_at"] == world.clock()]
    assert len(snaps) == len(world.videos) - 1
    for row in snaps:
        v = world.videos[row["video_id"]]
        assert row["views"] == v.views((world.clock() - v.published).total_seconds() / 3600)
        assert row["creator_followers"] == world.creators[v.creator]
    after = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    for vid, row in after.items():  # the same rows as yt-dlp made: one mapping, the thumbnail kept (the
        assert row["platform"] == ("sim" if vid == gone else "youtube")  # simulated pages' yt-dlp extractor names its platform "sim")
        assert {**row, "platform": "sim"} == first[vid]
    assert {r["video_id"]: r["status"] for r in store.read("tracked").to_pylist()}[gone] == "gone"


def test_a_quota_error_ends_the_pass_and_no_key_says_where_to_set_it(world, server, client, store, youtube,
                                                                     monkeypatch):
    world.clock.advance(days=4)
    youtube.error = (403, {"error": {"code": 403, "errors": [{"reason": "quotaExceeded"}]}})
    n = store.count("snapshots")
    s = track(store, Ladder.parse(), client=client, now=world.clock, api=DataAPI("test-key", base=youtube.base))
    assert s.stopped and "quotaExceeded" in s.stopped and store.count("snapshots") == n
    monkeypatch.delenv("MILES_YOUTUBE_API_KEY", raising=False)
    with pytest.raises(MilesError, match="MILES_YOUTUBE_API_KEY"):
        DataAPI()
