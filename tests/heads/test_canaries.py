"""The demo plants leak canaries: follower counts that jump 30 minutes after a video takes off, and a
description that gains "trending". An honest pre_upload model gains nothing from them; the same model
with an as-of join that looks ``nearest`` instead of backward feeds on them."""

import pandas as pd
import pytest

import miles.heads.history as history
from miles.errors import MilesError
from miles.eval.runner import EvalConfig, evaluate
from miles.sources import ingest
from miles.sources.demo import generate
from miles.store import Store

CFG = EvalConfig(heads=("lightgbm",), moments=("pre_upload",), splits=("time", "creator"), n_boot=200,
                 ablations=False, progress=False)


def _store(folder, canaries: bool) -> Store:
    files = generate(folder / "src", n_videos=1200, seed=5, canaries=canaries)
    store = Store.open(folder / "store")
    ingest([files.csv], store, progress=False)
    return store


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    return (_store(tmp_path_factory.mktemp("canary"), True), _store(tmp_path_factory.mktemp("clean"), False))


def _auroc(store) -> dict[str, float]:
    recs = evaluate(store, CFG).records
    return {r["split"]: r["value"] for r in recs if r["metric"] == "auroc"}


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
    for split in planted:
        assert planted[split] <= clean[split] + 0.02, (split, planted, clean)
    # ... and the same evaluation with a leaky as-of join does feed on them
    monkeypatch.setattr(history, "asof", lambda left, right, on, by: pd.merge_asof(
        left, right, on=on, by=by, direction="nearest"))
    leaky = _auroc(stores[0])
    assert all(leaky[s] > planted[s] + 0.04 for s in planted), (leaky, planted)


def test_descriptions_are_never_head_features(stores):
    from miles.heads.dataset import build_features

    with pytest.raises(MilesError, match="after publishing"):
        build_features(stores[0], "pre_upload", text_table="emb_text_minilm_desc")
