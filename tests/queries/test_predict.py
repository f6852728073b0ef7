import numpy as np
import pytest

from miles.heads.dataset import build_features
from miles.heads.persist import load_head
from miles.heads.train import head_dir
from miles.queries.predict import predict


def test_predict_reproduces_the_head_on_a_stored_video(demo_store, tmp_path):
    fs = build_features(demo_store, "pre_upload")
    row = fs.frame.iloc[-1]
    video = demo_store.read("videos", filter=f"video_id = '{row['video_id']}'").to_pylist()[0]
    thumb = None
    if video["thumbnail"] is not None:
        thumb = tmp_path / "t.jpg"
        thumb.write_bytes(video["thumbnail"])
    out = predict(demo_store, title=video["title"], hashtags=video["hashtags"], thumbnail=thumb,
                  duration=video["duration_s"], publish_at=video["published_at"], creator_id=video["creator_id"])
    clf, meta = load_head(head_dir(demo_store, "lightgbm", "pre_upload", "viral"))
    X = fs.X(meta["blocks"])[[len(fs) - 1]]
    assert out["viral_probability_raw"] == pytest.approx(float(clf.predict_proba(X)[0, 1]), abs=1e-4)
    for name in ("log_followers", "creator_prior", "title_chars", "hashtag_count"):
        expected = row[name]
        got = out["inputs"][name]
        assert (got is None and np.isnan(expected)) or got == pytest.approx(expected, abs=1e-5), name
    assert 0 <= out["viral_probability"] <= 1
    lo, hi = out["velocity_interval"]
    assert lo < out["velocity"] < hi
    assert out["factors"] and all("says" in f for f in out["factors"])
    assert all(s["viral"] for s in out["similar"])


def test_predict_without_a_trained_head_is_clear(tmp_path):
    from tests.conftest import ingested_store

    store = ingested_store(tmp_path, videos=20)
    with pytest.raises(ValueError, match="run `miles train"):
        predict(store, title="hello")
    with pytest.raises(ValueError, match="empty"):
        predict(store, title="  ")


@pytest.mark.parametrize("head", ["mlp", "baseline", "creator_prior"])
def test_predict_with_other_heads(demo_store, head):
    out = predict(demo_store, title="Wait for it... crispy tofu 🔥", creator_id="creator_0001", duration=20, head=head)
    assert 0 <= out["viral_probability"] <= 1 and np.isfinite(out["velocity"])
    assert set(out["timings_ms"]) >= {"heads", "shap", "search"}
