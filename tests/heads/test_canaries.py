"""The demo plants leak canaries: when a video takes off, its creator's follower count triples for a week
from 30 hours after it was published, and its description gains "trending" then. Both come after the
last early moment (24 h), so an honest pre_upload model gains nothing from them; the same models with a
follower count read after the cutoff (the video's latest crawled record), or with the description in
their text, feed on them.

A ``nearest`` as-of join (``tests/heads/test_leaks.py``) does not reach them: it looks at most to the next
observation of the creator (a video's own first crawl, about an hour after publishing), long before the
canary. The leak tests catch that mutant on their own; ``tests/sources/test_demo.py`` checks the timing."""

import numpy as np
import pandas as pd
import pytest

import miles.heads.dataset as dataset
import miles.heads.history as history
from miles.errors import MilesError
from miles.eval.runner import EvalConfig, evaluate
from miles.sources import ingest
from miles.sources.demo import generate
from miles.store import Store
from miles.store.text import compose_text

CFG = EvalConfig(heads=("baseline", "lightgbm"), moments=("pre_upload",), splits=("time", "creator"), n_boot=200,
                 ablations=False, progress=False)


def _store(folder, canaries: bool) -> Store:
    files = generate(folder / "src", n_videos=1200, seed=5, canaries=canaries)
    store = Store.open(folder / "store")
    ingest([files.csv], store, progress=False)
    return store


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    return (_store(tmp_path_factory.mktemp("canary"), True), _store(tmp_path_factory.mktemp("clean"), False))


def _auroc(store) -> dict[tuple[str, str], float]:
    recs = evaluate(store, CFG).records
    return {(r["head"], r["split"]): r["value"] for r in recs if r["metric"] == "auroc"}


def _followers_last_crawled(real):
    """The leak: the follower count on the video's latest crawled record (its 7-day snapshot)."""
    def leaky(rows, view, moment, spec):
        f = real(rows, view, moment, spec)
        end = pd.Series([pd.Timestamp("2100-01-01", tz="UTC")] * len(rows))
        seen = history.video_asof(view.snapshot_index(["creator_followers"]), rows["video_id"], end,
                                  ["creator_followers"])
        f["log_followers"] = np.log10(seen["creator_followers"].to_numpy(dtype=float) + 1.0)
        return f
    return leaky


def _with_descriptions(real):
    def leaky(rows, view, moment, spec):
        f = real(rows, view, moment, spec)
        f["text"] = [compose_text(t, h, d) for t, h, d in zip(rows["title"], rows["hashtags"], rows["description"])]
        return f
    return leaky


def test_the_canaries_are_planted(stores):
    planted, clean = stores
    d = planted.read("videos", columns=["description"]).to_pandas()["description"]
    assert d.str.contains("trending").mean() == pytest.approx(0.2, abs=0.03)
    assert not clean.read("videos", columns=["description"]).to_pandas()["description"].str.contains("trending").any()
    f1 = planted.read("snapshots", columns=["creator_followers"]).to_pandas().sum().iloc[0]
    f0 = clean.read("snapshots", columns=["creator_followers"]).to_pandas().sum().iloc[0]
    assert f1 > 1.2 * f0


def test_pre_upload_gains_nothing_from_the_canaries(stores, monkeypatch):
    planted, clean = (_auroc(s) for s in stores)
    for key in planted:
        assert planted[key] <= clean[key] + 0.02, (key, planted, clean)
    # ... while a post-cutoff follower count feeds on the followers, and a text with descriptions on "trending"
    with monkeypatch.context() as m:
        m.setattr(dataset, "feature_rows", _followers_last_crawled(dataset.feature_rows))
        leaky = _auroc(stores[0])
    assert all(leaky[("lightgbm", s)] > planted[("lightgbm", s)] + 0.03 for s in ("time", "creator")), (leaky, planted)
    monkeypatch.setattr(dataset, "feature_rows", _with_descriptions(dataset.feature_rows))
    leaky = _auroc(stores[0])
    assert all(leaky[("baseline", s)] > planted[("baseline", s)] + 0.1 for s in ("time", "creator")), (leaky, planted)


def test_descriptions_are_never_head_features(stores):
    from miles.heads.dataset import build_features

    with pytest.raises(MilesError, match="after publishing"):
        build_features(stores[0], "pre_upload", text_encoder="minilm_desc")
