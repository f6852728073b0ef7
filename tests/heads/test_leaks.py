"""Leak tests, each shown to fail on a deliberately leaky variant of the code it guards.

1. Point in time: no feature of a moment may move when anything observed after that moment changes —
   every snapshot column scaled, observation times after the cutoff moved, new post-cutoff snapshots
   inserted. Mutants: an as-of join that looks ``nearest`` instead of backward, a post-publication
   follower count, a creator prior that reads outcomes not yet known.
2. No test row teaches the model: a test row's prediction may depend on the training rows and on its own
   inputs only; changing the features and outcomes of *other* test rows must not move it. ``viral`` is
   defined within a week's cohort, so this holds only because time splits embargo the cohort that
   straddles the cut. Mutants: no embargo, PCA fitted on the rows being scored, early stopping on the
   test rows.
"""

import numpy as np
import pandas as pd
import pytest

import miles.heads.dataset as dataset
import miles.heads.history as history
from miles.heads.dataset import assemble, scalar_names_for
from miles.heads.features import MOMENTS, moment_hours
from miles.heads.labels import LabelSpec
from tests.conftest import ingested_store

SPEC = LabelSpec(age_hours=168.0)


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    store = ingested_store(tmp_path_factory.mktemp("leak"), videos=160, seed=9)
    videos = store.read("videos", columns=["video_id", "creator_id", "platform", "published_at", "title",
                                           "hashtags", "duration_s"]).to_pandas()
    videos["has_thumbnail"] = 1.0
    return videos, store.read("snapshots").to_pandas()


def after_cutoff(snaps: pd.DataFrame, cutoff: pd.Timestamp, rng) -> pd.DataFrame:
    """Everything observed after ``cutoff`` changed: every count scaled, times moved (still after it), and
    a new snapshot of each video inserted just after the cutoff with extreme counts."""
    later = snaps["observed_at"] > cutoff
    out = snaps.copy()
    for col in ("views", "likes", "comments", "shares", "creator_followers"):
        out.loc[later, col] = out.loc[later, col] * 7 + 13
    minutes = rng.integers(1, 90, int(later.sum()))
    out.loc[later, "observed_at"] = np.maximum(out.loc[later, "observed_at"] + pd.to_timedelta(minutes, unit="m"),
                                               cutoff + pd.Timedelta(seconds=1))
    extra = snaps.drop_duplicates("video_id").copy()
    extra["observed_at"] = cutoff + pd.Timedelta(minutes=1)
    for col in ("views", "likes", "comments", "shares", "creator_followers"):
        extra[col] = 10**9
    return pd.concat([out, extra], ignore_index=True)


def cutoff_violations(videos, snaps, moment: str, n: int = 12) -> list[tuple[str, str]]:
    """(video, feature) pairs that moved when everything after the video's cutoff changed."""
    base = assemble(videos, snaps, moment, SPEC).set_index("video_id")
    names = scalar_names_for(moment)
    rng = np.random.default_rng(0)
    moved = []
    for vid in rng.choice(base.index.to_numpy(), size=n, replace=False):
        cutoff = base.loc[vid, "published_at"] + pd.Timedelta(hours=moment_hours(moment))
        after = assemble(videos, after_cutoff(snaps, cutoff, rng), moment, SPEC).set_index("video_id")
        if vid not in after.index:  # its label moved out of reach: the label may, features may not
            continue
        for name in names:
            a, b = base.loc[vid, name], after.loc[vid, name]
            if not (a == b or (pd.isna(a) and pd.isna(b))):
                moved.append((vid, name))
    return moved


@pytest.mark.parametrize("moment", MOMENTS)
def test_features_ignore_everything_after_the_cutoff(frames, moment):
    assert cutoff_violations(*frames, moment) == []


def _nearest(times, at):
    """The leak: the observation nearest in time, before *or after*."""
    after = np.clip(np.searchsorted(times, at, side="left"), 0, len(times) - 1)
    before = np.clip(after - 1, 0, len(times) - 1)
    return np.where(np.abs(times[after] - at) < np.abs(times[before] - at), after, before)


def _followers_at_the_end(real):
    def leaky(rows, view, moment, spec):
        f = real(rows, view, moment, spec)
        end = pd.Series([pd.Timestamp("2100-01-01", tz="UTC")] * len(rows))
        f["log_followers"] = history.followers_asof(view.followers(), rows["creator_id"], end)
        return f
    return leaky


def _prior_from_every_outcome(real):
    def leaky(outcomes, creator_ids, times, min_history=1):
        return real(outcomes, creator_ids, [pd.Timestamp("2100-01-01", tz="UTC")] * len(creator_ids), min_history)
    return leaky


@pytest.mark.parametrize("mutant, moment", [("nearest as-of join", "pre_upload"), ("nearest as-of join", "early_6h"),
                                            ("post-publication followers", "pre_upload"),
                                            ("prior from outcomes not yet known", "pre_upload")])
def test_the_cutoff_test_catches_each_leak(frames, monkeypatch, mutant, moment):
    if mutant == "nearest as-of join":
        monkeypatch.setattr(history, "asof_positions", _nearest)
    elif mutant == "post-publication followers":
        monkeypatch.setattr(dataset, "feature_rows", _followers_at_the_end(dataset.feature_rows))
    else:
        monkeypatch.setattr(dataset, "creator_history", _prior_from_every_outcome(history.creator_history))
    assert cutoff_violations(*frames, moment), f"the {mutant} went unnoticed"


def test_every_feature_is_registered_for_its_moment():
    for moment in MOMENTS:
        assert scalar_names_for(moment)  # asserts registry membership inside


def test_label_must_come_after_the_moment(frames):
    from miles.errors import MilesError

    videos, snaps = frames
    with pytest.raises(MilesError, match="features would contain the answer"):
        assemble(videos, snaps, "early_24h", LabelSpec(age_hours=24))


def test_latest_observation_label_needs_an_observation_after_the_moment(frames):
    """``--label-age 0`` with an early moment: only rows observed after the moment have something to predict."""
    from miles.errors import MilesError

    videos, snaps = frames
    latest = LabelSpec(age_hours=None)
    rows = assemble(videos, snaps, "early_6h", latest)
    pub = videos.set_index("video_id").loc[rows["video_id"], "published_at"].to_numpy()
    last = snaps.groupby("video_id")["observed_at"].max().loc[rows["video_id"]].to_numpy()
    assert len(rows) and ((last - pub) > pd.Timedelta(hours=6).to_timedelta64()).all()
    early = snaps.merge(videos[["video_id", "published_at"]], on="video_id")
    early = early[early["observed_at"] <= early["published_at"] + pd.Timedelta(hours=5)].drop(columns="published_at")
    with pytest.raises(MilesError, match="none was observed after 6 h"):
        assemble(videos, early, "early_6h", latest)


# ---- 2. no test row teaches the model --------------------------------------------------------------

def transductive_violation(demo_store) -> float:
    """Largest change in a test row's P(viral) when the features and outcomes of other test rows change
    (their labels recomputed by the one label definition, as a store with those outcomes would have them)."""
    from miles.eval.runner import EvalConfig, EvalResult, _evaluate_split
    from miles.eval.splits import split_indices
    from miles.heads.dataset import build_features
    from miles.heads.labels import label

    # Purge off: with a 168 h label the purge alone already drops the week that straddles the cut, which
    # would hide a missing embargo; a source crawled once (purge off) is where the embargo matters.
    cfg = EvalConfig(heads=("lightgbm",), moments=("pre_upload",), splits=("time",), n_boot=10, ablations=False,
                     progress=False, purge=False, intervals=())
    fs = build_features(demo_store, "pre_upload", cfg.spec)
    _, te = split_indices(fs.frame, "time", cfg.test_fraction, cfg.seed, cfg.purge)
    a, b = te[::2], te[1::2]

    def scores(feature_set):
        result = EvalResult([], [], [], {}, {})
        _evaluate_split(feature_set, "pre_upload", "time", cfg.heads, cfg, result)
        f = result.fitted[0]
        return pd.Series(f.p_viral, index=f.test_idx).loc[a].to_numpy()

    before = scores(fs)
    moved = 0.0
    for shift in (-10.0, 10.0):  # the other test rows all far below, then all far above, their weeks' rest
        rng = np.random.default_rng(1)
        frame = fs.frame.copy()
        frame.loc[b, "velocity"] += shift
        for name in fs.scalar_names:
            frame.loc[b, name] = frame.loc[b, name] * 3 + 1
        frame = label(frame, cfg.spec)
        changed = dataset.FeatureSet(fs.moment, fs.spec, frame, fs.scalar_names, fs.text.copy(), fs.image.copy())
        changed.text[b] = rng.normal(size=changed.text[b].shape)
        changed.image[b] = rng.normal(size=changed.image[b].shape)
        moved = max(moved, float(np.abs(scores(changed) - before).max()))
    return moved


def _without_embargo(real):
    """The leak: the cohorts' extent ignored, so training keeps rows of the week that straddles the cut,
    whose labels depend on the test videos' outcomes."""
    def leaky(frame, test_fraction, purge):
        return real(frame.drop(columns=["cohort_end"]), test_fraction, purge)
    return leaky


def _pca_on_scored_rows(real_transform):
    def leaky(self, X):
        if X.shape[0] > 1:
            self.fit(X)
        return real_transform(self, X)
    return leaky


def _early_stopping_on_test_rows(head, X, y, v, train, test, params, *args):
    """The classic slip: the held-out rows passed as the early-stopping set."""
    from miles.heads.fit import fit_head

    rows = np.r_[train, test]
    fitted = fit_head(head, X[rows], y[rows], v[rows], {**params, "validation_fraction": (len(test) + 0.5) / len(rows)},
                      calibration_fraction=0.0)
    return (fitted, *fitted.predict(X[test]))


@pytest.fixture
def every_part_live(monkeypatch):
    """Keep every fitted part in play, so that a leak into any of them shows: the heads' self-check may drop
    the vectors on a small store (taking the PCA path out of the test), and the calibration may keep the
    head's own probabilities (so a label changed in its slice, the latest training weeks, would move
    nothing)."""
    import miles.heads.calibration as calibration
    import miles.heads.fit as fit

    monkeypatch.setattr(fit, "_self_check", lambda *a, **k: None)
    monkeypatch.setattr(calibration, "_platt_helps", lambda *a, **k: True)


def test_other_test_rows_do_not_move_a_prediction(demo_store, every_part_live):
    assert transductive_violation(demo_store) == 0.0


@pytest.mark.parametrize("mutant", ["no cohort embargo", "PCA fitted on the scored rows",
                                    "early stopping on the test rows"])
def test_the_transduction_test_catches_each_leak(demo_store, monkeypatch, every_part_live, mutant):
    import miles.eval.runner as runner
    import miles.eval.splits as splits
    from miles.heads.base import BlockReducer

    if mutant == "no cohort embargo":
        monkeypatch.setattr(splits, "_time_masks", _without_embargo(splits._time_masks))
    elif mutant == "PCA fitted on the scored rows":
        monkeypatch.setattr(BlockReducer, "transform", _pca_on_scored_rows(BlockReducer.transform))
    else:
        monkeypatch.setattr(runner, "fit_and_score", _early_stopping_on_test_rows)
    assert transductive_violation(demo_store) > 0.0, f"{mutant} went unnoticed"
