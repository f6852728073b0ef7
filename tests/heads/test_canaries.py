"""The demo plants leak canaries: follower counts that triple 30 minutes after a video takes off, and a
description that gains "trending". An honest pre_upload model gains nothing from them; the same models
with an as-of join that looks ``nearest`` instead of backward, or with the description in their text,
feed on them."""

import pytest

import miles.heads.dataset as dataset
import miles.heads.history as history
from miles.errors import MilesError
from miles.eval.runner import EvalConfig, evaluate
from miles.sources import ingest
from miles.sources.demo import generate
from miles.store import Store
from miles.store.text import compose_text
from tests.heads.test_leaks import _nearest

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
    # ... while a leaky as-of join feeds on the followers, and a text with descriptions on "trending"
    with monkeypatch.context() as m:
        m.setattr(history, "asof_positions", _nearest)
        leaky = _auroc(stores[0])
    assert all(leaky[("lightgbm", s)] > planted[("lightgbm", s)] + 0.03 for s in ("time", "creator")), (leaky, planted)
    monkeypatch.setattr(dataset, "feature_rows", _with_descriptions(dataset.feature_rows))
    leaky = _auroc(stores[0])
    assert all(leaky[("baseline", s)] > planted[("baseline", s)] + 0.1 for s in ("time", "creator")), (leaky, planted)


def test_descriptions_are_never_head_features(stores):
    from miles.heads.dataset import build_features

    with pytest.raises(MilesError, match="after publishing"):
        build_features(stores[0], "pre_upload", text_table="emb_text_minilm_desc")
