import hashlib

import numpy as np
import pandas as pd
import pytest

from miles.heads.features import MOMENTS, moment_hours
from miles.sources.demo import JUMP_AFTER_H, JUMP_DAYS, generate


def digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_demo_is_deterministic(tmp_path):
    a = generate(tmp_path / "a", n_videos=40, seed=3)
    b = generate(tmp_path / "b", n_videos=40, seed=3)
    generate(tmp_path / "c", n_videos=40, seed=4)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert a.videos == 40 and a.rows == b.rows


def test_demo_store_contents(demo_store):
    videos = demo_store.read("videos").to_pandas()
    assert len(videos) == 300
    assert videos["thumbnail"].notna().mean() > 0.9
    assert (videos["platform"] == "demo").all()
    assert demo_store.count("rejects") == 0
    snaps = demo_store.read("snapshots").to_pandas()
    assert 300 <= len(snaps) <= 8 * 300  # crawls a few minutes before and after each of four marks
    assert (snaps.groupby("video_id")["views"].apply(lambda s: s.is_monotonic_increasing)).all()


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    return tmp_path_factory.mktemp("demo_sets")


@pytest.fixture(scope="module")
def canary_pair(sets):
    """The same 400 videos (same seed), with and without the leak canaries, as read from videos.csv."""
    return _observed(sets / "planted", canaries=True), _observed(sets / "clean", canaries=False)


def _observed(folder, **kwargs) -> pd.DataFrame:
    generate(folder, n_videos=400, seed=11, **kwargs)
    rows = pd.read_csv(folder / "videos.csv")
    for col in ("published_at", "observed_at"):
        rows[col] = pd.to_datetime(rows[col], utc=True)
    return rows


def test_no_canary_before_the_last_moment(canary_pair):
    """Whatever a video's honest features can read (observed up to its last early moment, 24 h, plus the
    crawler's visit up to 20 minutes after the mark) is the same with and without canaries."""
    planted, clean = canary_pair
    same = ["video_id", "creator_id", "published_at", "observed_at", "views"]
    pd.testing.assert_frame_equal(planted[same], clean[same])
    last_cutoff = pd.Timedelta(hours=max(moment_hours(m) for m in MOMENTS), minutes=20)
    early = planted["observed_at"] <= planted["published_at"] + last_cutoff
    assert early.mean() > 0.7
    assert (planted.loc[early, "description"] == clean.loc[early, "description"]).all()
    assert planted.loc[~early, "description"].str.contains("trending").any()  # planted after the cutoff
    # Followers belong to the creator: an earlier video's jump is history a later video may see. A video
    # with no earlier one by its creator while any jump could still be on shows only its own canary.
    first = planted.drop_duplicates("video_id").sort_values("published_at")
    gap = first.groupby("creator_id")["published_at"].diff()
    alone = first.loc[gap.isna() | (gap > pd.Timedelta(hours=JUMP_AFTER_H) + pd.Timedelta(days=JUMP_DAYS)),
                      "video_id"]
    assert len(alone) >= 100
    mine = planted["video_id"].isin(alone)
    moved = planted["creator_followers"] != clean["creator_followers"]
    assert not (moved & mine & early).any(), planted[moved & mine & early]
    assert (moved & mine & ~early).sum() >= 10  # ... and a post-cutoff read of the same videos finds it


def _spearman(a: pd.Series, b: pd.Series) -> float:
    return float(a.rank().corr(b.rank()))


def _followers_vs_views(rows: pd.DataFrame) -> float:
    """Spearman correlation of log10 followers at the first observation with the views at 7 days."""
    age = rows["observed_at"] - rows["published_at"]
    first = rows.sort_values("observed_at").drop_duplicates("video_id").set_index("video_id")
    week = rows[age >= pd.Timedelta(hours=160)].sort_values("observed_at").drop_duplicates("video_id")
    week = week.set_index("video_id")["views"]
    followers = np.log10(first.loc[week.index, "creator_followers"])
    return _spearman(followers, week)


def test_hard_has_a_weaker_creator_effect_and_the_same_content(canary_pair, sets):
    default = canary_pair[0]
    hard = _observed(sets / "hard", hard=True)
    keep = ["video_id", "creator_id", "title", "hashtags", "duration_s", "published_at", "observed_at", "thumbnail"]
    pd.testing.assert_frame_equal(default[keep], hard[keep])  # the same videos, crawled at the same times
    assert digest(sets / "hard" / "thumbnails") == digest(sets / "planted" / "thumbnails")
    easy, harder = _followers_vs_views(default), _followers_vs_views(hard)
    assert easy > 0.5 and harder < easy - 0.15, (easy, harder)


@pytest.mark.parametrize("flags, hard", [([], False), (["--hard"], True)])
def test_miles_demo_hard_reaches_the_generator(flags, hard, tmp_path, monkeypatch):
    import miles.sources.demo as demo
    from miles.cli import main

    seen = {}

    def stop(*args, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop before the slow stages")

    monkeypatch.setattr(demo, "generate", stop)
    assert main(["-q", "demo", "--store", str(tmp_path / "store"), "--videos", "10", *flags]) != 0
    assert seen["hard"] is hard and seen["n_videos"] == 10
