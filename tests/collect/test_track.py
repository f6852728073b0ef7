"""discover and track through yt-dlp's real networking against the simulated platform on 127.0.0.1."""

import json

import pyarrow.compute as pc

from miles.collect.discover import discover
from miles.collect.extractors import EXTRACTORS
from miles.collect.ladder import Ladder
from miles.collect.track import backoff, track
from miles.collect.ytdlp import Client
from miles.sources import ingest
from tests.collect.conftest import channels


def _snapshot_keys(store):
    t = store.read("snapshots", columns=["video_id", "observed_at"])
    return list(zip(t["video_id"].to_pylist(), t["observed_at"].to_pylist()))


def test_discover_lists_videos_without_snapshots_and_twice_adds_nothing(world, server, client, store):
    world.clock.advance(days=3)  # every video is published
    found = discover(store, channels(world, server), client=client, now=world.clock())
    assert found.listed == found.new == len(world.videos) and not found.failed
    tracked = store.read("tracked").to_pylist()
    assert {r["video_id"] for r in tracked} == set(world.videos)
    assert all(r["status"] == "tracking" and r["url"].startswith("http://127.0.0.1:") for r in tracked)
    assert store.count("snapshots") == 0  # listings' rounded counts are never snapshots
    again = discover(store, channels(world, server), client=client, now=world.clock())
    assert again.new == 0 and store.count("tracked") == len(world.videos)
    bad = discover(store, [server.url("/sim/video/nosuch")], client=client)
    assert bad.failed and "404" in next(iter(bad.failed.values()))


def test_track_stores_what_the_platform_shows_at_the_fetch_time(world, server, client, store):
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    s = track(store, Ladder.parse(), client=client, now=world.clock)
    assert s.fetched == s.due == s.snapshots == len(world.videos) and s.failed == s.gone == 0
    snaps = store.read("snapshots").to_pylist()
    for row in snaps:
        v = world.videos[row["video_id"]]
        assert row["observed_at"] == world.clock()  # the fake clock, not yt-dlp's wall clock
        assert row["views"] == v.views((world.clock() - v.published).total_seconds() / 3600)
        assert row["creator_followers"] == world.creators[v.creator]
    videos = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    v0 = next(iter(world.videos.values()))
    assert videos[v0.id]["published_at"] == v0.published.replace(microsecond=0)
    assert videos[v0.id]["creator_id"] == v0.creator and videos[v0.id]["platform"] == "sim"
    assert videos[v0.id]["thumbnail"] == v0.thumbnail and videos[v0.id]["hashtags"] == v0.tags
    # the same pass again: nothing is due, nothing doubles
    again = track(store, Ladder.parse(), client=client, now=world.clock)
    assert again.due == again.fetched == 0 and store.count("snapshots") == len(snaps)
    # the next rung: one more snapshot each, the thumbnail kept without fetching it again
    world.clock.advance(days=4)
    before = server.requests
    s2 = track(store, Ladder.parse(), client=client, now=world.clock)
    assert s2.fetched == len(world.videos) - s2.gone and server.requests - before == len(world.videos)
    keys = _snapshot_keys(store)
    assert len(keys) == len(set(keys)) == len(snaps) + s2.fetched
    assert {r["video_id"]: r["thumbnail"] for r in store.read("videos").to_pylist()}[v0.id] == v0.thumbnail


def test_a_fetched_video_maps_as_its_info_json_would(world, server, client, store, tmp_path):
    """One mapping: a scraped video and the same info dict ingested from an .info.json make the same row."""
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    track(store, Ladder.parse(), client=client, now=world.clock)
    vid = next(iter(world.videos))
    info = client.video(server.url(f"/sim/video/{vid}"))
    info.pop("thumbnail")
    info["observed_at"] = world.clock().isoformat()
    folder = tmp_path / "info"
    folder.mkdir()
    (folder / f"{vid}.info.json").write_text(json.dumps(info))
    (folder / f"{vid}.jpg").write_bytes(world.videos[vid].thumbnail)
    other = type(store).open(tmp_path / "other")
    ingest([folder], other, progress=False)
    mine = store.read("videos", filter=pc.field("video_id") == vid).to_pylist()[0]
    theirs = other.read("videos").to_pylist()[0]
    assert mine == theirs
    assert store.read("snapshots", filter=pc.field("video_id") == vid).to_pylist()[0] == \
        other.read("snapshots").to_pylist()[0]


def test_removed_videos_are_marked_gone_and_left_alone(world, server, client, store):
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    removed = next(iter(world.videos))
    world.videos[removed].removed_h = 1.0
    s = track(store, Ladder.parse(), client=client, now=world.clock)
    assert s.gone == 1 and s.failed == 0 and s.fetched == len(world.videos) - 1
    rows = {r["video_id"]: r for r in store.read("tracked").to_pylist()}
    assert rows[removed]["status"] == "gone" and "removed" in rows[removed]["last_error"]
    world.clock.advance(days=4)
    assert removed not in {r["video_id"] for r in store.read("snapshots").to_pylist()}
    before = server.requests
    track(store, Ladder.parse(), client=client, now=world.clock)
    assert server.requests - before == len(world.videos) - 1  # never asked for again


def test_a_failed_fetch_is_retried_after_its_backoff(world, server, client, store):
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    server.refuse(1, status=500)  # the first video's page fails once
    s = track(store, Ladder.parse(), client=client, now=world.clock)
    assert s.failed == 1 and s.fetched == len(world.videos) - 1 and not s.stopped
    rows = {r["video_id"]: r for r in store.read("tracked").to_pylist()}
    failed = [v for v, r in rows.items() if r["failures"] == 1]
    assert len(failed) == 1 and rows[failed[0]]["status"] == "tracking" and "500" in rows[failed[0]]["last_error"]
    assert track(store, Ladder.parse(), client=client, now=world.clock).due == 0  # waiting out its backoff
    world.clock.advance(seconds=backoff(1).total_seconds())
    s2 = track(store, Ladder.parse(), client=client, now=world.clock)
    assert s2.fetched == 1
    assert {r["video_id"]: r["failures"] for r in store.read("tracked").to_pylist()}[failed[0]] == 0


def test_a_platform_that_keeps_failing_ends_the_pass(world, server, client, store):
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    server.refuse(1000, status=503)
    s = track(store, Ladder.parse(), client=client, now=world.clock)
    assert s.stopped and "in a row failed" in s.stopped and s.failed == 5 and s.fetched == 0


def test_a_429_ends_the_pass_with_what_was_fetched_committed(world, server, client, store):
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    server.refuse(100, status=429, after=10)  # five videos (page + thumbnail each), then refusals
    s = track(store, Ladder.parse(), client=client, now=world.clock, commit_every=1000)
    assert s.stopped and "429" in s.stopped and s.fetched == 5 and store.count("snapshots") == 5
    server.refuse(0)
    s2 = track(store, Ladder.parse(), client=client, now=world.clock)
    assert s2.fetched == len(world.videos) - 5 and store.count("snapshots") == len(world.videos)


def test_a_title_holding_half_a_character_fails_that_video_and_the_pass_goes_on(world, server, client, store):
    """A page whose title is a lone surrogate (\\ud800, as yt-dlp decodes &#xD800; or a JSON escape) is one
    video's failure with the reason, never a pass that stores nothing, pass after pass."""
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    bad = next(iter(world.videos))
    world.videos[bad].title = "half \ud800 a character"
    s = track(store, Ladder.parse(), client=client, now=world.clock)
    assert s.fetched == len(world.videos) and s.rejected == 1 and not s.stopped
    assert store.count("snapshots") == len(world.videos) - 1
    rows = {r["video_id"]: r for r in store.read("tracked").to_pylist()}
    assert rows[bad]["failures"] == 1 and rows[bad]["status"] == "tracking"
    assert "not stored" in rows[bad]["last_error"] and "lone surrogate" in rows[bad]["last_error"]
    assert all(r["failures"] == 0 for v, r in rows.items() if v != bad)
    assert "lone surrogate" in store.read("rejects", filter=pc.field("video_id") == bad).to_pylist()[0]["reason"]


class _Watching(Client):
    """The real client, noting whether the store's writer lock is held while it waits on the network."""

    def __init__(self, store, strip_time: bool = False, **kw):
        super().__init__(**kw)
        self.store, self.strip_time, self.held = store, strip_time, []

    def video(self, url):
        from miles.store.lock import _HELD

        self.held.append(self.store.location.key in _HELD)
        info = super().video(url)
        if self.strip_time:  # a page that gives no publish time
            for key in ("timestamp", "release_timestamp", "upload_date", "release_date"):
                info.pop(key, None)
        return info


def test_no_fetch_waits_while_holding_the_writer_lock(world, server, store):
    world.clock.advance(days=3)
    client = _Watching(store, pause=0, extra_extractors=EXTRACTORS)
    discover(store, channels(world, server), client=client, now=world.clock())
    s = track(store, Ladder.parse(), client=client, now=world.clock, commit_every=2)
    assert s.fetched == len(world.videos) and client.held and not any(client.held)


def test_a_video_without_a_publish_time_is_given_up_after_a_few_passes(world, server, store):
    from miles.collect.track import NO_TIME_TRIES

    client = _Watching(store, strip_time=True, pause=0, extra_extractors=EXTRACTORS)
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    fetched = []
    for _ in range(NO_TIME_TRIES + 3):
        world.clock.advance(days=1)
        fetched.append(track(store, Ladder.parse(), client=client, now=world.clock).fetched)
    statuses = {r["status"] for r in store.read("tracked").to_pylist()}
    assert statuses == {"failed"} and fetched[-1] == 0 and sum(fetched) == NO_TIME_TRIES * len(world.videos)
    assert "no publish time" in store.read("tracked").to_pylist()[0]["last_error"]
