"""One meaning of "viral" everywhere: training rows, the SQL view, similar's evidence and a video's page
show the same flag for the same video, because each reads ``miles.heads.labels``."""

import numpy as np
import pandas as pd

from miles.heads.dataset import build_features
from miles.heads.labels import LabelSpec
from miles.queries import sql
from miles.queries.catalog import video
from miles.queries.similar import evidence_table


def test_every_place_shows_the_same_flag(demo_store):
    spec = LabelSpec()
    frame = build_features(demo_store, "pre_upload", spec).frame.set_index("video_id")
    training = frame["viral"].astype(bool)
    view = sql(demo_store, "SELECT video_id, viral, velocity, relative_to_creator FROM videos_latest").to_pandas()
    view = view.set_index("video_id").loc[training.index]
    assert (view["viral"].astype(bool) == training).all()
    np.testing.assert_allclose(view["velocity"], frame["velocity"])
    evidence = evidence_table(demo_store, pd.Timestamp("2100-01-01", tz="UTC"), spec).loc[training.index]
    assert (evidence["viral"] == training).all()
    np.testing.assert_allclose(evidence["relative_to_creator"].astype(float),
                               view["relative_to_creator"].astype(float), equal_nan=True)
    for vid in training.index[:: max(1, len(training) // 12)]:
        assert video(demo_store, vid, spec)["label"]["viral"] == training[vid]
    # the flag means the same in every week: about a fifth of each week's videos
    weekly = frame.groupby("cohort")["viral"].mean()
    assert weekly[frame.groupby("cohort").size() >= 10].between(0.1, 0.34).all()


def test_a_video_without_a_final_outcome_has_no_flag(demo_store):
    rows = sql(demo_store, "SELECT video_id, viral, final FROM videos_latest").to_pandas()
    assert rows.loc[rows["final"] != True, "viral"].isna().all()  # noqa: E712 (nullable booleans)
    assert rows.loc[rows["final"] == True, "viral"].notna().all()  # noqa: E712


def test_sql_without_the_labels_does_not_compute_them(demo_store, monkeypatch):
    import importlib

    q = importlib.import_module("miles.queries.sql")  # the package exports a function of the same name

    def boom(store):
        raise AssertionError("labels computed for a query that does not read them")

    monkeypatch.setattr(q, "label_table", boom)
    assert sql(demo_store, "SELECT count(*) AS n FROM videos").to_pylist()[0]["n"] == 300
