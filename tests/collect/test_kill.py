"""``kill -9`` in the middle of a track pass, then a rerun: nothing doubles, nothing is lost."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from miles.collect.discover import discover
from miles.collect.ladder import Ladder
from miles.collect.track import track
from tests.collect.conftest import channels

PASS = textwrap.dedent("""
    import sys
    from datetime import datetime
    from miles.collect.extractors import EXTRACTORS
    from miles.collect.track import track
    from miles.collect.ytdlp import Client
    from miles.store import Store
    now = datetime.fromisoformat(sys.argv[2])
    track(Store.open(sys.argv[1]), client=Client(pause=0, extra_extractors=EXTRACTORS), now=lambda: now,
          commit_every=2)
""")


def test_kill_9_during_track_then_rerun(world, server, client, store):
    world.clock.advance(days=3)
    discover(store, channels(world, server), client=client, now=world.clock())
    server.slow(0.15)
    proc = subprocess.Popen([sys.executable, "-c", PASS, str(store.path), world.clock().isoformat()],
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while store.count("snapshots") < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    half = store.count("snapshots")
    assert 2 <= half < len(world.videos), half  # killed part-way, with some commits made
    server.slow(0)
    s = track(store, Ladder.parse(), client=client, now=world.clock)  # the lock died with the process
    assert s.fetched == len(world.videos) - half
    t = store.read("snapshots", columns=["video_id", "observed_at"])
    keys = list(zip(t["video_id"].to_pylist(), t["observed_at"].to_pylist()))
    assert len(keys) == len(set(keys)) == len(world.videos)
