import numpy as np
import pandas as pd
import pytest

from miles.errors import MilesError
from miles.eval.splits import split_indices


def frame(n=400, creators=40, seed=0, with_creators=True):
    rng = np.random.default_rng(seed)
    pub = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.uniform(0, 100, n)), unit="D")
    cid = [f"c{i}" for i in rng.integers(0, creators, n)] if with_creators else [None] * n
    return pd.DataFrame({"video_id": [f"v{i}" for i in range(n)], "creator_id": cid, "published_at": pub,
                         "outcome_known_at": pub + pd.Timedelta(days=7)})


def test_time_creator_split_is_forward_and_creator_disjoint():
    f = frame()
    tr, te = split_indices(f, "time_creator", 0.3, seed=2)
    assert f["published_at"].iloc[tr].max() < f["published_at"].iloc[te].min()
    assert (f["outcome_known_at"].iloc[tr] <= f["published_at"].iloc[te].min()).all()
    assert not set(f["creator_id"].iloc[tr]) & set(f["creator_id"].iloc[te])
    assert len(te) > 20 and len(tr) > 100
    assert list(f["published_at"].iloc[tr]) == sorted(f["published_at"].iloc[tr])  # time order for calibration


def test_creator_splits_need_creator_ids():
    f = frame(with_creators=False)
    for kind in ("creator", "time_creator"):
        with pytest.raises(MilesError, match="needs creator ids"):
            split_indices(f, kind)
    tr, te = split_indices(f, "time")
    assert len(tr) and len(te)


def test_eval_without_creator_ids_says_so(tmp_path):
    """A source without creator ids has no creator split and no creator prior, and eval says so rather than
    reporting a random split under the creator split's name."""
    from miles.eval.runner import EvalConfig, evaluate
    from miles.sources import ingest
    from miles.sources.demo import generate
    from miles.store import Store

    files = generate(tmp_path / "src", n_videos=300, seed=4)
    df = pd.read_csv(files.csv).drop(columns=["creator_id"])
    df.to_csv(tmp_path / "nocreator.csv", index=False)
    store = Store.open(tmp_path / "s")
    ingest([tmp_path / "nocreator.csv"], store, progress=False)
    result = evaluate(store, EvalConfig(heads=("creator_prior", "lightgbm"), moments=("pre_upload",),
                                        splits=("time", "creator", "time_creator"), n_boot=50, progress=False))
    assert {r["split"] for r in result.records} == {"time"}
    assert {r["head"] for r in result.records if r["metric"] != "prevalence"} == {"lightgbm"}
    assert any("no video has a creator id" in n for n in result.notes)


def labelled(n=400, creators=40, seed=0, known_after_days=7.0):
    """A frame as ``assemble`` makes it: outcomes with the one label's cohort columns (platform × week)."""
    from miles.heads.labels import LabelSpec, label

    f = frame(n, creators, seed)
    f["outcome_known_at"] = f["published_at"] + pd.Timedelta(days=known_after_days)
    f["platform"], f["final"], f["creator_prior"] = "p", True, np.nan
    f["velocity"] = np.random.default_rng(seed).normal(size=n)
    return label(f, LabelSpec())


@pytest.mark.parametrize("purge", [True, False])
def test_time_splits_embargo_the_cohort_that_straddles_the_cut(purge):
    f = labelled(known_after_days=0.5)  # outcomes known within a day: the purge alone keeps most of the week
    for kind in ("time", "time_creator"):
        sp = split_indices(f, kind, 0.3, seed=1, purge=purge)
        cut = f["published_at"].iloc[sp.test].min()
        assert (f["cohort_end"].iloc[sp.train] < cut).all()  # no training label depends on a test outcome
        assert not set(f["cohort"].iloc[sp.train]) & set(f["cohort"].iloc[sp.test])
        if purge:
            assert (f["outcome_known_at"].iloc[sp.train] <= cut).all()
    sp = split_indices(f, "time", 0.3, purge=purge)
    assert sp.info["embargoed"] > 0 and sp.info["purge"] is purge and sp.info["n_train"] == len(sp.train)
    # without the cohort columns (the mistake), rows of the straddling week train
    leaky = split_indices(f.drop(columns=["cohort_end"]), "time", 0.3, purge=purge)
    assert len(leaky.train) == len(sp.train) + sp.info["embargoed"]


def test_a_cohort_spanning_everything_cannot_be_split_in_time():
    from miles.heads.labels import LabelSpec, label

    f = label(labelled(), LabelSpec(cohort="platform"))
    with pytest.raises(MilesError, match="cannot be split in time"):
        split_indices(f, "time", purge=False)


@pytest.mark.parametrize("kind", ["time", "creator", "time_creator", "random"])
def test_duplicates_stay_on_one_side(kind):
    f = labelled(known_after_days=0.5)
    rng = np.random.default_rng(3)
    plain = split_indices(f, kind, 0.3, seed=2)
    clusters = np.full(len(f), -1)
    pairs = zip(rng.choice(plain.train, 20, replace=False), rng.choice(plain.test, 20, replace=False))
    for c, (i, j) in enumerate(pairs):  # 20 re-uploads across the split, by other creators or later
        clusters[[i, j]] = c
    sp = split_indices(f, kind, 0.3, seed=2, duplicates=clusters)
    on_train = set(clusters[sp.train]) - {-1}
    assert not on_train & set(clusters[sp.test])
    assert list(sp.test) == list(plain.test)  # the test set is what the split defines; training gives way
    assert sp.info["duplicates"] == len(plain.train) - len(sp.train) == 20


def test_a_creator_split_needs_creator_ids_on_most_rows():
    f = frame()
    f.loc[f.index[:220], "creator_id"] = None  # 180 of 400 have one
    with pytest.raises(MilesError, match="180 of 400"):
        split_indices(f, "creator")
