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
    assert {r["head"] for r in result.records} == {"lightgbm"}
    assert any("no video has a creator id" in n for n in result.notes)
