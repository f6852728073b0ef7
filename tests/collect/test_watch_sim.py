"""``miles watch`` on the simulated platform for a month of its fake clock: discovery, track passes and
scoring together, as a channel manager would run them. The first weeks build the history the heads are
trained on (a 48-hour label, so a small platform has outcomes); the rest is watched pass by pass."""

import json
import sys
from datetime import timedelta

import pandas as pd

from miles.collect.discover import discover
from miles.collect.extractors import EXTRACTORS
from miles.collect.ladder import Ladder
from miles.collect.platform import PlatformServer, World
from miles.collect.track import track
from miles.collect.ytdlp import Client
from miles.heads.labels import LabelSpec
from miles.store import Store

RECORDER = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(json.load(sys.stdin)) + '\\n')"


def test_a_month_of_watching_a_simulated_platform(tmp_path):
    from miles.embed.job import EmbedConfig, embed
    from miles.heads.train import train_heads
    from miles.queries.watch import watch_pass

    world = World.make(videos=70, days=30, seed=5, publish_days=28)
    store = Store.open(tmp_path / "store")
    ladder, client, log = Ladder.parse(), Client(pause=0, extra_extractors=EXTRACTORS), tmp_path / "alerts.jsonl"
    command = f"{sys.executable} -c \"{RECORDER}\" {log}"
    summaries = []
    with PlatformServer(world) as server:
        channels = [server.url(f"/sim/@{c}/shorts") for c in world.creators]
        for hour in range(0, 30 * 24, 2):  # a pass every two simulated hours, for a month
            if hour % 6 == 0:
                discover(store, channels, client=client, now=world.clock.now)
            track(store, ladder, max_requests=10_000, client=client, now=world.clock)
            if hour == 8 * 24:  # eight days in: what is known so far trains the heads
                embed(store, EmbedConfig(preset="offline", progress=False))
                train_heads(store, ["lightgbm"], ("pre_upload", "early_6h"), LabelSpec(age_hours=48))
            if hour > 8 * 24:  # then each pass is watched: new videos encoded, the young scored
                summaries.append(watch_pass(store, world.clock.now, alert_above=0.35, alert_command=command))
            world.clock.advance(hours=2)
    scores = store.read("scores").to_pandas()
    assert len(scores) == sum(s.scored for s in summaries) >= 30
    assert not scores.duplicated(["video_id", "moment", "head_version"]).any()
    assert (scores["age_hours"] < 48).all()  # only the young are watched
    both = scores.groupby("video_id")["moment"].agg(set)
    assert sum(m == {"pre_upload", "early_6h"} for m in both) >= 10  # seen before its 6-hour moment, then after
    early = scores[scores["moment"] == "early_6h"]
    assert (early["age_hours"] >= 6).all() and (early["age_hours"] < 6 + 4).mean() > 0.5  # scored when it came
    assert sum(s.embedded for s in summaries) >= 20 and summaries[-1].waiting == 0  # new uploads were encoded
    alerts = scores[scores["alert"]]
    assert alerts["video_id"].is_unique
    sent = [json.loads(line)["video_id"] for line in log.read_text().splitlines()] if log.exists() else []
    assert sorted(sent) == sorted(alerts["video_id"])
    published = store.read("videos", columns=["video_id", "published_at"]).to_pandas()
    watched = published[(published["published_at"] > pd.Timestamp(scores["scored_at"].min()))
                        & (published["published_at"] < pd.Timestamp(world.clock.now) - timedelta(hours=8))]
    assert len(watched) >= 10 and set(watched["video_id"]) <= set(scores["video_id"])  # every upload was watched
