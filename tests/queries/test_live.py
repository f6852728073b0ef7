"""A live video scored at the latest moment its age allows, through the same feature path as training rows:
the moment follows the age and the trained heads, a snapshot after the moment's cutoff changes nothing, and
the command line and the API say the same."""

import shutil

import pandas as pd
import pytest

from miles.errors import MilesError, NotFound
from miles.queries.live import choose_moment, score_video
from miles.store import Store


def _late_video(store):
    v = store.read("videos", columns=["video_id", "published_at"]).to_pandas().sort_values("published_at")
    row = v.iloc[-5]
    return row["video_id"], pd.Timestamp(row["published_at"])


def test_the_moment_follows_the_age_and_the_trained_heads(demo_store):
    assert choose_moment(demo_store, "lightgbm", 0.5) == ("pre_upload", [], [])
    moment, notes, missing = choose_moment(demo_store, "lightgbm", 3)  # 1 h is reached, but no head serves it
    assert moment == "pre_upload" and "no model is trained for the 1-hour moment" in notes[0]
    assert missing == ["early_1h"]
    assert choose_moment(demo_store, "lightgbm", 7) == ("early_6h", [], [])
    vid, pub = _late_video(demo_store)
    for hours, moment in ((0.5, "pre_upload"), (7, "early_6h"), (30, "early_6h")):
        out = score_video(demo_store, vid, at=(pub + pd.Timedelta(hours=hours)).isoformat(), k=2)
        assert out["moment"] == moment and 0 < out["viral_probability"] < 1
        assert out["viral_interval"][0] <= out["viral_probability"] <= out["viral_interval"][1]
        assert out["card"]["headline"].startswith(f"{out['viral_probability']:.0%}")
    assert out["progress"]["views"] > 0 and out["progress"]["age_hours"] <= 30
    assert {"1h", "6h", "24h"} == set(out["progress"]["neighbours"][0]["views_at"])
    with pytest.raises(NotFound):
        score_video(demo_store, "nope")
    with pytest.raises(MilesError, match="after the time asked about"):
        score_video(demo_store, vid, at=(pub - pd.Timedelta(hours=1)).isoformat())


def test_snapshots_after_the_moment_change_nothing(demo_store, tmp_path):
    """Views written between the 6-hour cutoff and the time asked about (a hundredfold jump) leave the
    6-hour score as it was: the features are as of publish + 6 h, as in training."""
    vid, pub = _late_video(demo_store)
    at = (pub + pd.Timedelta(hours=9)).isoformat()
    before = score_video(demo_store, vid, at=at, k=0)
    copy = Store.open(shutil.copytree(demo_store.path, tmp_path / "store"))
    snaps = copy.read("snapshots", filter=f"video_id = '{vid}'").to_pandas()
    late = snaps[pd.to_datetime(snaps["observed_at"], utc=True) > pub + pd.Timedelta(hours=6)].head(1)
    jump = late.assign(observed_at=pub + pd.Timedelta(hours=7), views=late["views"] * 100, likes=late["likes"] * 100)
    import pyarrow as pa

    copy.upsert("snapshots", pa.Table.from_pandas(jump, schema=copy.dataset("snapshots").schema, preserve_index=False))
    after = score_video(copy, vid, at=at, k=0)
    assert after["moment"] == before["moment"] == "early_6h"
    assert after["viral_probability"] == before["viral_probability"] and after["inputs"] == before["inputs"]
    assert after["progress"]["views"] != before["progress"]["views"]  # the jump is there, and was seen
