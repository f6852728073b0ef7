import json

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest

from miles.errors import MilesError
from miles.heads.dataset import Draft, build_features, draft_features
from miles.queries import sql
from miles.queries.cache import deployed_head, store_view
from miles.queries.encode import query_vectors
from miles.queries.predict import predict
from tests.conftest import jpeg_bytes

TABLES = {"text": "emb_text_minilm", "image": "emb_image_efficientnet_lite0"}


def _stored(store, video_id):
    return store.read("videos", filter=pc.field("video_id") == video_id).to_pylist()[0]


def test_draft_path_equals_training_rows_for_50_stored_videos(demo_store):
    """One feature path: each stored video, built as a draft from its own title, hashtags, thumbnail bytes,
    duration, creator and publish time (the store holding what it held then — every feature is as of that
    time), equals its training row; and predict gives the head's stored prediction for it."""
    fs = build_features(demo_store, "pre_upload")
    fitted, meta = deployed_head(demo_store, "lightgbm")
    run = sql(demo_store, "SELECT run_id FROM runs WHERE kind = 'train' AND head = 'lightgbm' AND moment = "
                          "'pre_upload' ORDER BY created_at DESC LIMIT 1").to_pylist()[0]["run_id"]
    stored = sql(demo_store, f"SELECT video_id, p_viral, velocity_pred FROM predictions WHERE run_id = '{run}'"
                 ).to_pandas().set_index("video_id")
    rows = np.random.default_rng(0).choice(len(fs), size=50, replace=False)
    for i in rows:
        row = fs.frame.iloc[i]
        v = _stored(demo_store, row["video_id"])
        draft = Draft(title=v["title"], publish_at=v["published_at"], hashtags=v["hashtags"], duration_s=v["duration_s"],
                      creator_id=v["creator_id"], has_thumbnail=v["thumbnail"] is not None)
        vecs = query_vectors(demo_store, TABLES, title=v["title"], hashtags=v["hashtags"], thumbnail=v["thumbnail"])
        d = draft_features(store_view(demo_store), draft, fs.spec, fs.scalar_names, vecs,
                           {"text": 384, "image": 1280})
        pd.testing.assert_series_equal(d.frame.iloc[0][fs.scalar_names], row[fs.scalar_names], check_names=False,
                                       check_dtype=False)
        assert d.frame.iloc[0]["text"] == row["text"]
        np.testing.assert_allclose(d.X(["text", "image"])[0], fs.X(["text", "image"])[i], atol=2e-5)
        out = predict(demo_store, title=v["title"], hashtags=v["hashtags"], thumbnail=v["thumbnail"],
                      duration=v["duration_s"], publish_at=v["published_at"], creator_id=v["creator_id"], k=0)
        assert out["viral_probability"] == pytest.approx(stored.loc[row["video_id"], "p_viral"], abs=2e-3)
        assert out["velocity"] == pytest.approx(stored.loc[row["video_id"], "velocity_pred"], abs=2e-3)


def test_predict_is_calibrated_with_intervals_and_never_certain(demo_store):
    out = predict(demo_store, title="Wait for it... crispy tofu 🔥", creator_id="creator_0001", duration=20,
                  thumbnail=jpeg_bytes())
    fitted, meta = deployed_head(demo_store, "lightgbm")
    lo, hi = out["viral_interval"]
    assert 0 < out["viral_probability"] < 1 and lo <= out["viral_probability"] <= hi
    assert "out of 50 videos like this one" in out["interval_means"] and len(fitted.resamples) == 20
    assert out["calibrated_on"] == fitted.calibration.n > 0
    vlo, vhi = out["velocity_interval"]
    assert vlo < out["velocity"] < vhi
    assert out["factors"] and all("says" in f for f in out["factors"])
    assert all(s["viral"] for s in out["similar"])
    # the most extreme inputs still get a probability inside the calibration's bounds
    for title, followers in (("POV: you finally fix the squeaky door 😂 #diy", 0), ("x", 10**9)):
        p = predict(demo_store, title=title, followers=followers, thumbnail=jpeg_bytes(colour=(255, 0, 0)))
        assert fitted.calibration.floor <= p["viral_probability"] <= fitted.calibration.ceiling
        assert 0 < p["viral_probability"] < 1


def test_a_date_before_any_data_is_ordinary_input(demo_store):
    out = predict(demo_store, title="POV: you finally fix the squeaky door 😂 #diy", duration=28,
                  publish_at="2025-08-01T18:00:00Z", followers=12000)
    assert out["similar"] == [] and any("no video that broke out" in n for n in out["notes"])
    assert out["viral_interval"] is not None and 0 < out["viral_probability"] < 1


def test_unknown_creator_is_said(demo_store):
    out = predict(demo_store, title="hello", creator_id="cr'eator_00'11")
    assert any("has no videos" in n for n in out["notes"])
    assert out["inputs"]["creator_n_prior"] == 0


def test_predict_without_a_trained_head_is_clear(tmp_path):
    from tests.conftest import ingested_store

    store = ingested_store(tmp_path, videos=20)
    with pytest.raises(MilesError, match="run `miles train"):
        predict(store, title="hello")
    with pytest.raises(MilesError, match="empty"):
        predict(store, title="  ")


@pytest.mark.parametrize("head", ["mlp", "baseline", "creator_prior"])
def test_predict_with_other_heads(demo_store, head):
    out = predict(demo_store, title="Wait for it... crispy tofu 🔥", creator_id="creator_0001", duration=20, head=head)
    assert 0 < out["viral_probability"] < 1 and np.isfinite(out["velocity"])
    assert set(out["timings_ms"]) >= {"heads", "shap", "search"}


def test_predict_cli_and_its_errors(demo_store, tmp_path, capsys):
    from miles.cli import main

    thumb = tmp_path / "t.jpg"
    thumb.write_bytes(jpeg_bytes())
    args = ["predict", "--store", str(demo_store.path), "--title", "POV: you finally fix the squeaky door 😂 #diy",
            "--duration", "28", "--publish-at", "2025-08-01T18:00:00Z", "--followers", "12000"]
    assert main(args) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "— a typical video here breaks out 20% of the time: " in first and "no video that broke out" in out
    assert "no channel was given" in out and "views by day 7" in out and "\nP(viral) " in out
    assert "(out of 50 videos like this one, the share that breaks out falls in this range 95% of the time" in out
    assert main(args + ["--json", "--thumbnail", str(thumb)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["card"]["headline"].startswith(f"{got['viral_probability']:.0%} — ")
    assert abs(got["card"]["odds_multiple"] - got["viral_probability"] / 0.2) < 0.01
    assert 0 < got["viral_probability"] < 1 and got["similar"] == []
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    for extra, message in ((["--thumbnail", str(bad)], "isn't an image Miles can read"), (["--duration", "-3"], "positive"),
                           (["--publish-at", "yesterday-ish"], "the publish time"), (["-k", "-1"], "-k")):
        try:
            code = main(args + extra)
        except SystemExit as exit_:  # argparse's own check of a flag
            code = exit_.code
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err, err


def test_a_cold_predict_imports_neither_torch_nor_scikit_learn(demo_store, tmp_path):
    """What makes a cold `miles predict` fast (BENCHMARKS.md, cold start): after `miles embed` saved the
    encoders' graphs, a fresh process predicts with ONNX Runtime and a booster head, so none of the heavy
    imports happen; and it prints what the in-process call gives."""
    import os
    import subprocess
    import sys

    thumb = tmp_path / "t.jpg"
    thumb.write_bytes(jpeg_bytes())
    args = ["predict", "--store", str(demo_store.path), "--title", "Wait for it... ramen hack", "--creator-id",
            "creator_0001", "--duration", "25", "--thumbnail", str(thumb), "--json"]
    code = ("import sys; from miles.cli import main\n"
            f"rc = main({args!r})\n"
            "print('HEAVY', sorted(m for m in ('torch', 'sklearn', 'transformers', 'timm', 'shap', 'scipy.stats')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "HEAVY []"
    fast = json.loads(out.stdout[: out.stdout.rindex("HEAVY")])
    # the full path, as when no graph can be saved: the same answer, at the cost of importing torch
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "MILES_GRAPHS": "0"})
    assert out.returncode == 0, out.stderr
    assert "'torch'" in out.stdout.strip().splitlines()[-1]
    full = json.loads(out.stdout[: out.stdout.rindex("HEAVY")])
    assert abs(fast["viral_probability"] - full["viral_probability"]) < 1e-4
    assert abs(fast["velocity"] - full["velocity"]) < 1e-3
