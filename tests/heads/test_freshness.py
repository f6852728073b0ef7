"""An early moment's counts carry the age of the snapshot they come from, and a snapshot too early for the
moment (the 6-hour counts from a 1-hour snapshot) is not used as its value: the feature is missing."""

import numpy as np
import pandas as pd

from miles.heads.dataset import feature_rows
from miles.heads.labels import LabelSpec
from miles.heads.view import StoreView

PUB = pd.Timestamp("2026-05-04T10:00:00Z")


def _rows(snapshot_hours: dict[str, list[float]]) -> pd.DataFrame:
    videos = pd.DataFrame([{"video_id": v, "creator_id": "c", "platform": "youtube", "published_at": PUB,
                            "title": "t", "hashtags": [], "description": None, "duration_s": 20.0}
                           for v in snapshot_hours])
    snaps = pd.DataFrame([{"video_id": v, "observed_at": PUB + pd.Timedelta(hours=h), "views": 100.0 * h,
                           "likes": 10.0 * h, "comments": 0.0, "creator_followers": 1000.0}
                          for v, hours in snapshot_hours.items() for h in hours])
    view = StoreView.of(videos, snaps)
    return feature_rows(view.videos, view, "early_6h", LabelSpec()).set_index("video_id")


def test_a_snapshot_too_early_for_the_moment_is_not_its_value():
    f = _rows({"only_1h": [1.0], "fresh": [1.0, 5.0], "on_time": [0.9, 6.0], "late_only": [9.0]})
    assert np.isnan(f.at["only_1h", "log_views_6h"]) and np.isnan(f.at["only_1h", "snap_age_6h"])
    assert f.at["only_1h", "log_views_1h"] == np.log10(101.0) and f.at["only_1h", "snap_age_1h"] == 1.0
    assert f.at["fresh", "snap_age_6h"] == 5.0 and f.at["fresh", "log_views_6h"] == np.log10(501.0)
    assert f.at["on_time", "snap_age_6h"] == 6.0 and f.at["on_time", "snap_age_1h"] == 0.9
    assert np.isnan(f.at["late_only", "log_views_6h"])  # nothing seen by 6 h: missing, never the 9 h count
