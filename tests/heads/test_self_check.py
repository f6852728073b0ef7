"""A fitted head checks itself on its validation slice (the latest 20% of its training rows): vectors that
rank clearly worse there than the metadata alone are dropped, and a velocity further off there than the training
median is replaced by it. Checked on a few hundred rows of the demo and of a real source, and shown to
matter: with the check off, a spurious title signal and a noisy MLP do worse than the simpler choice."""

import numpy as np
import pytest

from miles.heads.dataset import build_features
from miles.heads.fit import CALIBRATION_FRACTION, fit_head, fit_models
from miles.heads.inputs import head_inputs
from miles.heads.labels import LabelSpec
from miles.heads.stats import auroc
from tests.conftest import shared


def slices(n: int):
    n_cal = int(n * CALIBRATION_FRACTION)
    return np.arange(n - n_cal), np.arange(n - n_cal, n)


def assert_no_worse_than_simpler(fitted, X, y, v, params):
    """On the validation slice: the velocity is no further off than the median, and the blocks kept rank
    no clearly worse than the metadata alone (a few hundred rows cannot tell a few thousandths apart)."""
    fit, cal = slices(len(y))
    raw, vel = fitted.predict_raw(X[cal])
    assert np.abs(v[cal] - vel).mean() <= np.abs(v[cal] - np.median(v[fit])).mean() + 1e-12
    sizes = params["block_sizes"]
    if fitted.used == list(sizes) and len(sizes) > 1:
        meta = {"metadata": sizes["metadata"]}
        simple = fit_models(fitted.name, X[fit][:, :sizes["metadata"]], y[fit], v[fit], {**params, "block_sizes": meta})
        assert auroc(y[cal], raw) >= auroc(y[cal], simple[0].predict_proba(X[cal][:, :sizes["metadata"]])[:, 1]) - 0.03


def spurious(fs, y):
    """Title vectors carrying a signal that holds on the fitting rows and reverses on the latest ones (a
    fashion that passed): a head that trusts them does worse there than one that does not."""
    fit, cal = slices(len(y))
    rng = np.random.default_rng(0)
    text = rng.normal(0, 0.1, fs.text.shape).astype(np.float32)
    text[fit, 0] += 3 * (2 * y[fit] - 1)
    text[cal, 0] -= 3 * (2 * y[cal] - 1)
    return text


@pytest.mark.parametrize("head", ["lightgbm", "mlp"])
def test_the_demo_heads_are_no_worse_than_the_simpler_choice(demo_store, head):
    fs = build_features(demo_store, "pre_upload")
    y, v = fs.frame["viral"].to_numpy(dtype=int), fs.frame["velocity"].to_numpy()
    for text in (fs.text, spurious(fs, y)):
        fs.text = text
        X, _, params = head_inputs(fs, head, fs.blocks())
        assert_no_worse_than_simpler(fit_head(head, X, y, v, params), X, y, v, params)
    fitted = fit_head(head, X, y, v, params)  # the spurious vectors: dropped, and the run says so
    assert fitted.used == ["metadata"] and any("were dropped" in n for n in fitted.notes)


def test_without_the_check_the_simpler_choice_wins(demo_store):
    fs = build_features(demo_store, "pre_upload")
    y, v = fs.frame["viral"].to_numpy(dtype=int), fs.frame["velocity"].to_numpy()
    fs.text = spurious(fs, y)
    X, _, params = head_inputs(fs, "lightgbm", fs.blocks())
    with pytest.raises(AssertionError):
        assert_no_worse_than_simpler(fit_head("lightgbm", X, y, v, params, check=False), X, y, v, params)


@pytest.mark.shared_data
@pytest.mark.slow
def test_a_few_hundred_real_videos(tmp_path):
    """The first 400 SMP posts (one crawl: log10 views at the crawl) with their title vectors."""
    from miles.embed.registry import create_encoder
    from miles.sources import ingest
    from miles.store import Store

    store = Store.open(tmp_path / "smp")
    ingest([shared("smp-video-2025")], store, observed_at="2023-09-15T00:00:00Z", progress=False)
    fs = build_features(store, "pre_upload", LabelSpec(age_hours=None, per_hour=False))
    keep = np.arange(400)
    fs.frame = fs.frame.iloc[keep].reset_index(drop=True)
    fs.text = create_encoder("minilm").encode_texts(list(fs.texts))
    y, v = fs.frame["viral"].to_numpy(dtype=int), fs.frame["velocity"].to_numpy()
    for head in ("lightgbm", "mlp"):
        X, _, params = head_inputs(fs, head, ["metadata", "text"])
        assert_no_worse_than_simpler(fit_head(head, X, y, v, params), X, y, v, params)
