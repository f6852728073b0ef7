import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miles.errors import MilesError
from miles.heads import MOMENTS, LabelSpec, available, compute_outcomes, moment_hours
from miles.heads.history import creator_history, prefix_medians

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def frames(specs):
    """specs: (video_id, creator, published offset h, [(age h, views), ...])"""
    videos = pd.DataFrame([{"video_id": v, "creator_id": c, "platform": "p", "published_at": T0 + pd.Timedelta(hours=h)}
                           for v, c, h, _ in specs])
    snaps = pd.DataFrame([{"video_id": v, "observed_at": T0 + pd.Timedelta(hours=h + a), "views": n}
                          for v, _, h, obs in specs for a, n in obs])
    return videos, snaps


def test_velocity_interpolates_at_fixed_age():
    v, s = frames([("a", "c", 0, [(18, 1800), (30, 3000)])])
    out = compute_outcomes(v, s, LabelSpec(age_hours=24))
    assert out.loc[0, "velocity"] == pytest.approx(np.log10((2400 + 1) / 24))
    assert out.loc[0, "outcome_known_at"] == T0 + pd.Timedelta(hours=30)
    assert out.loc[0, "final"]


@pytest.mark.parametrize("ages, final", [((12, 36), False), ((16, 30), True), ((16, 32), True), ((1, 720), False), ((23.5,), True),
                                         ((6, 25), True), ((6, 30), False), ((30, 40), False)])
def test_interpolation_needs_snapshots_close_on_both_sides(ages, final):
    """Around a 24 h label: one snapshot within 5% of it, or one on each side within a factor 2."""
    v, s = frames([("a", "c", 0, [(a, int(100 * a)) for a in ages])])
    out = compute_outcomes(v, s, LabelSpec(age_hours=24))
    assert bool(out.loc[0, "final"]) is final


def test_velocity_single_snapshot_uses_observation_age():
    v, s = frames([("a", "c", 0, [(10, 999)])])
    out = compute_outcomes(v, s, LabelSpec(age_hours=24))
    assert out.loc[0, "velocity"] == pytest.approx(np.log10(1000 / 10))
    assert out.loc[0, "age_hours"] == 10


def test_creator_prior_is_point_in_time():
    # b is published before a's outcome (at 24 h) is known: b has no history; c, after, sees a.
    v, s = frames([("a", "c1", 0, [(24, 2400)]), ("b", "c1", 10, [(24, 24)]), ("c", "c1", 30, [(24, 240)])])
    out = compute_outcomes(v, s, LabelSpec(age_hours=24)).set_index("video_id")
    assert np.isnan(out.loc["b", "creator_prior"]) and out.loc["b", "n_prior"] == 0
    assert out.loc["c", "creator_prior"] == pytest.approx(np.log10(2401 / 24)) and out.loc["c", "n_prior"] == 1


def test_viral_is_the_top_fraction_of_every_cohort_over_all_its_known_outcomes():
    """One definition: within each platform × week, the top 20% of velocity among every video whose final
    outcome is known; a partial outcome has no label."""
    rng = np.random.default_rng(0)
    specs = [(f"v{i}", f"c{i % 7}", i * 3.0, [(24, int(rng.lognormal(6, 1)))]) for i in range(300)]
    specs.append(("late", "c0", 30.0, [(6, 10)]))  # observed at 6 h only: partial
    v, s = frames(specs)
    out = compute_outcomes(v, s, LabelSpec(age_hours=24))
    final = out[out["final"]]
    for _, g in final.groupby("cohort"):
        q = g["velocity"].quantile(0.8)
        assert (g["viral"].to_numpy() == (g["velocity"] >= q).to_numpy()).all()
        assert (g["viral_threshold"] == q).all()
        assert g["cohort_end"].eq(g["published_at"].max()).all()
    assert final["viral"].mean() == pytest.approx(0.2, abs=0.02)
    assert final.groupby("cohort")["viral"].mean().between(0.15, 0.3).all()  # the same base rate every week
    assert np.isnan(out.set_index("video_id").loc["late", "viral"])


def test_a_label_depends_only_on_its_own_cohort():
    """Changing the outcomes of one week moves no label of another week (the base of the time split's
    embargo: only the week that straddles a cut ties training labels to test outcomes)."""
    rng = np.random.default_rng(1)
    specs = [(f"v{i}", "c", i * 8.0, [(24, int(rng.lognormal(6, 1)))]) for i in range(200)]
    v, s = frames(specs)
    spec = LabelSpec(age_hours=24)
    a = compute_outcomes(v, s, spec).set_index("video_id")
    weeks = a["cohort"].unique()
    changed = s.copy()
    in_last = changed["video_id"].isin(a.index[a["cohort"] == weeks[-1]])
    changed.loc[in_last, "views"] *= 50
    b = compute_outcomes(v, changed, spec).set_index("video_id")
    others = a["cohort"] != weeks[-1]
    assert (a.loc[others, "viral"] == b.loc[others, "viral"]).all()
    assert not (a.loc[~others, "viral_threshold"] == b.loc[~others, "viral_threshold"]).any()


def test_platform_day_cohorts():
    v, s = frames([(f"v{i}", "c", i * 6.0, [(24, 100 * (i + 1))]) for i in range(20)])
    out = compute_outcomes(v, s, LabelSpec(age_hours=24, cohort="platform_day"))
    assert out["cohort"].nunique() == 5  # 20 videos, 4 a day
    assert out.groupby("cohort")["viral"].sum().eq(1).all()  # the top 20% of 4 is the best one


def test_breakout_label():
    v, s = frames([("a", "c", 0, [(24, 240)]), ("b", "c", 48, [(24, 2400)]), ("d", "c", 96, [(24, 250)])])
    labels = compute_outcomes(v, s, LabelSpec(age_hours=24))
    assert np.isnan(labels.loc[0, "breakout"])
    assert labels.loc[1, "breakout"] == 1.0 and labels.loc[2, "breakout"] == 0.0
    assert labels.loc[1, "relative_to_creator"] == pytest.approx(labels.loc[1, "velocity"] - labels.loc[0, "velocity"])


def test_label_spec_defaults_are_the_command_line_defaults():
    from miles.cli import build_parser, label_spec

    for command in ("eval", "train", "similar"):
        args = build_parser().parse_args([command] + (["--title", "x"] if command == "similar" else []))
        assert label_spec(args) == LabelSpec(), command


def test_bad_specs():
    with pytest.raises(ValueError, match="viral_fraction"):
        LabelSpec(viral_fraction=1.5)
    with pytest.raises(ValueError, match="cohort"):
        LabelSpec(cohort="month")


def test_feature_registry_moments():
    assert moment_hours("early_6h") == 6.0
    with pytest.raises(ValueError, match="unknown moment"):
        moment_hours("later")
    pre = {f.name for f in available("pre_upload")}
    assert "log_views_1h" not in pre and "creator_prior" in pre
    assert "log_views_1h" in {f.name for f in available("early_1h")}
    assert "log_views_6h" not in {f.name for f in available("early_1h")}
    for m in MOMENTS:
        assert all(f.hours <= moment_hours(m) for f in available(m))


def test_demo_labels_have_planted_fraction(demo_store):
    v = demo_store.read("videos", columns=["video_id", "creator_id", "platform", "published_at"]).to_pandas()
    s = demo_store.read("snapshots").to_pandas()
    out = compute_outcomes(v, s, LabelSpec(cohort="platform"))
    assert len(out) == 300
    assert out.loc[out["final"], "viral"].mean() == pytest.approx(0.2, abs=0.01)


def test_one_late_observation_is_not_an_outcome_at_a_fixed_age():
    v, s = frames([("a", "c", 0, [(2000, 99_999)]), ("b", "c", 0, [(160, 1600), (300, 3000)])])
    out = compute_outcomes(v, s, LabelSpec(age_hours=168)).set_index("video_id")
    assert not out.loc["a", "final"] and out.loc["b", "final"]
    assert out.loc["b", "velocity"] == pytest.approx(np.log10((1680 + 1) / 168), rel=1e-6)
    latest = compute_outcomes(v, s, LabelSpec(age_hours=None, per_hour=False)).set_index("video_id")
    assert latest.loc["a", "velocity"] == pytest.approx(np.log10(100_000)) and latest.loc["a", "final"]


def test_coverage_counts_the_videos_whose_snapshots_bracket_each_age():
    from miles.heads.labels import coverage

    v, s = frames([("a", "c", 0, [(1, 10), (6, 60), (24, 240), (168, 1680)]),  # every age
                   ("b", "c", 5, [(4, 40), (7, 70), (150, 1500), (190, 1900)]),  # 6 h and 168 h, not 1 or 24
                   ("c", "c", 9, [(30, 300)]),  # none
                   ("d", "c", 9, [])])  # never observed
    assert coverage(v, s, LabelSpec()) == {"videos": 4, "168h": 2, "1h": 1, "6h": 2, "24h": 1}
    # the rule is the label's: a looser gap counts b's 24 h, since 7 h and 150 h are within 30x of each other
    assert coverage(v, s, LabelSpec(max_gap=30.0))["24h"] == 2


def _reference(ages, views, spec):
    """One video's outcome the plain way: the rule of ``brackets``, then np.interp (or the latest)."""
    from miles.heads.labels import brackets

    ages, views = np.asarray(ages, float), np.asarray(views, float)
    final = spec.age_hours is None or brackets(ages, spec)
    if spec.age_hours is not None and final:
        a = min(max(spec.age_hours, ages[0]), ages[-1])
        return final, a, float(np.interp(a, np.r_[0.0, ages], np.r_[0.0, views]))
    return final, ages[-1], views[-1]


@settings(max_examples=150, deadline=None)
@given(videos=st.lists(st.lists(st.tuples(st.floats(0.01, 900), st.integers(0, 10**7)), min_size=1, max_size=8,
                                unique_by=lambda t: round(t[0], 6)), min_size=1, max_size=12),
       age=st.sampled_from([None, 1.0, 6.0, 24.0, 168.0]))
def test_outcomes_for_all_videos_at_once_equal_the_per_video_rule(videos, age):
    spec = LabelSpec(age_hours=age)
    rows = [(f"v{i:02d}", "c", 0, sorted(obs)) for i, obs in enumerate(videos)]
    v, s = frames(rows)
    out = compute_outcomes(v, s, spec).set_index("video_id")
    for vid, _, _, obs in rows:
        final, a, views = _reference([o[0] for o in obs], [o[1] for o in obs], spec)
        got = out.loc[vid]
        assert bool(got["final"]) == final
        assert got["age_hours"] == pytest.approx(a)
        assert got["velocity"] == pytest.approx(np.log10((views + 1) / max(a, 1.0)), abs=1e-9)


# The creator prior is a median over a creator's past outcomes, computed for every row at once: checked
# here against its definition, one query at a time.
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([-1.5, 0.0, 0.25, 1.0, 2.0, 2.5, 7.0]) | st.floats(-5, 5), min_size=1, max_size=30))
def test_prefix_medians_equal_numpy(values):
    v = np.array(values)
    expected = [np.median(v[:k]) for k in range(1, len(v) + 1)]
    assert np.array_equal(prefix_medians(v, len(v)), expected)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3))
def test_creator_history_is_the_median_of_outcomes_known_strictly_before(seed, min_history):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    outcomes = pd.DataFrame({
        "creator_id": rng.choice(["a", "b", "c"], n),
        "velocity": rng.choice([0.5, 1.0, 1.5, 3.0], n) + rng.integers(0, 2, n) * rng.normal(size=n),
        "outcome_known_at": T0 + pd.to_timedelta(rng.integers(0, 40, n), unit="h"),  # ties in time
        "final": rng.random(n) < 0.8,
    })
    creators = rng.choice(["a", "b", "c", "new"], 50)
    times = T0 + pd.to_timedelta(rng.integers(-5, 45, 50), unit="h")
    prior, count = creator_history(outcomes, creators, times, min_history)
    for c, t, p, k in zip(creators, times, prior, count):
        known = outcomes[(outcomes["creator_id"] == c) & outcomes["final"] & (outcomes["outcome_known_at"] < t)]
        assert k == len(known)
        if len(known) >= min_history:
            assert p == np.median(known["velocity"])
        else:
            assert np.isnan(p)


def test_a_source_without_publish_times_has_no_outcome_and_is_told_so(tmp_path):
    """Titles and views but no publish time (yt-shorts-kr-20k's shape): a clear error, never a TypeError."""
    from miles.heads.dataset import build_features
    from miles.sources import ingest
    from miles.store import Store

    csv = tmp_path / "v.csv"
    pd.DataFrame({"video_id": ["a", "b"], "title": ["x", "y"], "views": [10, 20]}).to_csv(csv, index=False)
    store = Store.open(tmp_path / "s")
    ingest([csv], store, observed_at="2026-01-01T00:00:00Z", progress=False)
    for spec in (LabelSpec(age_hours=None), LabelSpec()):
        with pytest.raises(MilesError, match="has (an|a final) outcome"):
            build_features(store, "pre_upload", spec)
