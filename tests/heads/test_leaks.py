"""The leak test: no feature of a moment may move when data after that moment changes."""

import numpy as np
import pandas as pd
import pytest

from miles.heads.dataset import assemble, scalar_names_for
from miles.heads.features import MOMENTS, moment_hours
from miles.heads.labels import LabelSpec
from tests.conftest import ingested_store


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    store = ingested_store(tmp_path_factory.mktemp("leak"), videos=160, seed=9)
    videos = store.read("videos", columns=["video_id", "creator_id", "platform", "published_at", "title",
                                           "hashtags", "duration_s"]).to_pandas()
    videos["has_thumbnail"] = 1.0
    return videos, store.read("snapshots").to_pandas()


@pytest.mark.parametrize("moment", MOMENTS)
def test_features_ignore_everything_after_the_cutoff(frames, moment):
    videos, snaps = frames
    spec = LabelSpec(age_hours=168.0)
    base = assemble(videos, snaps, moment, spec).set_index("video_id")
    names = scalar_names_for(moment)
    rng = np.random.default_rng(0)
    for vid in rng.choice(base.index.to_numpy(), size=12, replace=False):
        cutoff = base.loc[vid, "published_at"] + pd.Timedelta(hours=moment_hours(moment))
        later = snaps["observed_at"] > cutoff
        changed = snaps.copy()
        changed.loc[later, "views"] = changed.loc[later, "views"] * 7 + 13
        changed.loc[later, "likes"] = changed.loc[later, "likes"] * 3
        changed.loc[later, "creator_followers"] = changed.loc[later, "creator_followers"] * 5
        after = assemble(videos, changed, moment, spec).set_index("video_id")
        pd.testing.assert_series_equal(base.loc[vid, names], after.loc[vid, names], check_names=False)


def test_every_feature_is_registered_for_its_moment():
    for moment in MOMENTS:
        assert scalar_names_for(moment)  # asserts registry membership inside


def test_the_leak_test_can_fail(frames):
    """A feature computed from after the cutoff (the final views) is caught by the same comparison."""
    videos, snaps = frames
    spec = LabelSpec(age_hours=168.0)
    base = assemble(videos, snaps, "pre_upload", spec).set_index("video_id")
    vid = base.index[5]
    changed = snaps.copy()
    later = changed["observed_at"] > base.loc[vid, "published_at"]
    changed.loc[later, "views"] *= 7
    after = assemble(videos, changed, "pre_upload", spec).set_index("video_id")
    assert base.loc[vid, "velocity"] != after.loc[vid, "velocity"]  # the label moves, as it must


def test_label_must_come_after_the_moment(frames):
    videos, snaps = frames
    with pytest.raises(ValueError, match="features would contain the answer"):
        assemble(videos, snaps, "early_24h", LabelSpec(age_hours=24))
