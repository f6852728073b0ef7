import json

import numpy as np
import pandas as pd
import pytest

from miles.eval.metrics import bootstrap_weights, ece, metric, paired_gain, with_interval
from miles.eval.splits import split_indices


def frame(n=200, creators=20, seed=0):
    rng = np.random.default_rng(seed)
    pub = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.uniform(0, 100, n)), unit="D")
    return pd.DataFrame({"video_id": [f"v{i}" for i in range(n)], "creator_id": [f"c{i % creators}" for i in range(n)],
                         "published_at": pub, "outcome_known_at": pub + pd.Timedelta(days=7)})


def test_time_split_is_forward_and_purged():
    f = frame()
    tr, te = split_indices(f, "time", 0.3)
    cut = f["published_at"].iloc[te].min()
    assert (f["published_at"].iloc[tr] < cut).all()
    assert (f["outcome_known_at"].iloc[tr] <= cut).all()  # labels known before the test period
    assert len(tr) + len(te) < len(f)  # the purge dropped the last week of training rows


def test_creator_split_is_disjoint():
    f = frame()
    tr, te = split_indices(f, "creator", 0.3, seed=1)
    assert not set(f["creator_id"].iloc[tr]) & set(f["creator_id"].iloc[te])
    assert 0.2 < len(te) / len(f) < 0.45


def test_random_and_bad_split():
    tr, te = split_indices(frame(), "random", 0.25)
    assert len(te) == 50 and not set(tr) & set(te)
    with pytest.raises(ValueError, match="unknown split"):
        split_indices(frame(), "weekly")


def test_metrics_and_intervals():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    s = y + rng.normal(0, 1, 400)
    groups = np.repeat(np.arange(40), 10)
    W = bootstrap_weights(groups, 100)
    val, lo, hi = with_interval("auroc", y, s, W)
    assert lo < val < hi and 0.6 < val < 0.9
    assert ece(np.array([0, 1, 1, 0]), np.array([0.0, 1.0, 1.0, 0.0])) == 0.0
    assert metric("velocity_mae", np.array([1.0, 2.0]), np.array([1.5, 2.5])) == 0.5
    gain, glo, ghi = paired_gain("velocity_mae", y.astype(float), y + 0.1, y + 0.5, W)
    assert gain == pytest.approx(0.4) and glo > 0  # positive = better, also for lower-is-better metrics
    # resamples draw whole creators: every row of a creator has its creator's weight
    assert all(len(set(w[groups == g])) == 1 for w in W[:5] for g in range(40))
    assert (W.sum(1) == 400).all()


def test_eval_on_demo_store(demo_store, tmp_path):
    from miles.eval.pipeline import run_eval
    from miles.eval.runner import EvalConfig
    from miles.queries import sql

    cfg = EvalConfig(moments=("pre_upload",), splits=("time", "creator"), n_boot=50, progress=False)
    report, js = tmp_path / "r.html", tmp_path / "m.json"
    result = run_eval(demo_store, cfg, report=report, json_path=js)
    records = json.loads(js.read_text())
    assert {tuple(sorted(r)) for r in records} == {("ci_high", "ci_low", "features", "head", "metric", "moment", "n",
                                                   "n_train", "split", "value")}
    # (a 95% velocity range needs 39 calibration rows: this small store may have fewer)
    assert {r["metric"] for r in records} - {"velocity_coverage"} == {
        "auroc", "auprc", "brier", "ece", "velocity_mae", "spearman", "prevalence", "p_coverage", "p_width"}
    assert {r["features"] for r in records} >= {"title", "creator_prior", "metadata", "metadata+text",
                                                "metadata+image", "metadata+text+image"}
    # the test sets' prevalence beside AUPRC: the label is the top 20% of every week
    for r in records:
        if r["metric"] == "prevalence":
            assert 0.12 < r["value"] < 0.3 and r["ci_low"] <= r["value"] <= r["ci_high"]
    # intervals measured on the time split only, for each head's deployable variant
    covered = {(r["split"], r["head"], r["features"]) for r in records if r["metric"] == "p_coverage"}
    assert {s for s, _, _ in covered} == {"time"} and len(covered) == 4
    html = report.read_text()
    for part in ("<svg", "What the numbers mean", "Paired gains", "SHAP", "creator", "prevalence"):
        assert part in html
    runs = sql(demo_store, "SELECT n_train, n_test, config FROM runs WHERE kind = 'eval' AND split = 'time'").to_pylist()
    split = json.loads(runs[0]["config"])["split"]
    assert runs[0]["n_train"] == split["n_train"] < 300 - runs[0]["n_test"]  # what the purge and embargo left
    assert split["purge"] is True and split["purged"] + split["embargoed"] > 0
    runs = sql(demo_store, "SELECT count(*) AS n FROM runs WHERE kind = 'eval'").to_pylist()[0]["n"]
    assert runs >= len(result.fitted)
    n = sql(demo_store, "SELECT count(*) AS n FROM predictions p JOIN runs r USING (run_id) "
                        "WHERE r.head = 'lightgbm' AND r.split = 'creator'").to_pylist()[0]["n"]
    assert n > 0
    assert result.gains and all(g["ci_low"] <= g["gain"] <= g["ci_high"] for g in result.gains)
    # the paired gains are kept with the runs, for the dashboard's verdicts: every pair of heads, every variant
    # over its metadata alone
    from miles.queries.catalog import latest_gains

    kept = latest_gains(demo_store)
    pairs = {(g["split"], g["head"], g["versus"]) for g in kept if g["metric"] == "auroc"}
    assert {("time", "mlp", "lightgbm"), ("time", "lightgbm", "creator_prior"), ("creator", "lightgbm", "baseline")} <= pairs
    assert {g["metric"] for g in kept if g["versus"] == "metadata"} == {"auroc", "brier", "velocity_mae"}
    assert "ranks best by AUROC (higher is better)" in html and "the served head" in html.lower()


def test_group_shapley_is_exact():
    from miles.eval.explain import group_shapley

    X = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])
    bg = np.zeros(3)
    phi, groups = group_shapley(lambda Z: 2 * Z[:, 0] + Z[:, 1] * Z[:, 2], X, bg, ["a", "b", "b"])
    assert groups == ["a", "b"]
    np.testing.assert_allclose(phi, [[2.0, 6.0], [0.0, -1.0]])


@pytest.mark.slow
def test_planted_content_signal_is_found(tmp_path):
    """On the 2,000-video demo, embeddings beat metadata alone on creators never seen in training."""
    from miles.embed.job import EmbedConfig, embed
    from miles.eval.runner import EvalConfig, evaluate
    from tests.conftest import ingested_store

    store = ingested_store(tmp_path, videos=2000, seed=0)
    embed(store, EmbedConfig(progress=False))
    result = evaluate(store, EvalConfig(heads=("lightgbm",), moments=("pre_upload",), splits=("creator",),
                                        n_boot=200, progress=False))
    gain = next(g for g in result.gains if g["features"] == "metadata+text+image" and g["metric"] == "velocity_mae")
    assert gain["ci_low"] > 0, gain


def test_shap_patterns_find_the_planted_duration_effect():
    from miles.eval.explain import shap_patterns
    from miles.heads.models import LightGBMHead

    rng = np.random.default_rng(0)
    n = 1500
    names = ["duration_s", "publish_hour", "title_chars"]
    X = np.column_stack([rng.uniform(5, 60, n), rng.integers(0, 24, n), rng.integers(10, 80, n),
                         rng.normal(size=(n, 8))]).astype(np.float32)
    X[:50, 2] = np.nan  # unknown values are left out of the bins
    y = (rng.random(n) < np.where(X[:, 0] < 16, 0.6, 0.15)).astype(int)  # short videos break out
    head = LightGBMHead(task="viral", block_sizes={"metadata": 3, "text": 8}, n_components=4).fit(X, y)
    pat = shap_patterns(head, X, names, features=("duration_s", "publish_hour", "title_chars", "missing"))
    assert set(pat) == {"duration_s", "publish_hour", "title_chars"}
    dur = pat["duration_s"]
    assert len(dur) == 5 and sum(b["n"] for b in dur) == n
    assert max(dur, key=lambda b: b["effect"]) is dur[0] and dur[0]["hi"] < 20
    assert dur[0]["effect"] - max(b["effect"] for b in dur[1:]) > 0.3
    assert sum(b["n"] for b in pat["title_chars"]) == n - 50
    # the hour carries no signal: its bins stay close together
    assert max(b["effect"] for b in pat["publish_hour"]) - min(b["effect"] for b in pat["publish_hour"]) < 0.3


def test_wilson_interval():
    from miles.eval.metrics import wilson_interval

    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_a_run_is_recorded_with_its_predictions_or_not_at_all(demo_store, tmp_path, monkeypatch):
    """Predictions are written before their runs: a crash between the two leaves no run without them."""
    import shutil

    from miles.eval.pipeline import record_runs
    from miles.eval.runner import EvalConfig, evaluate
    from miles.queries import sql
    from miles.store import Store

    store = Store(tmp_path / "copy")
    shutil.copytree(demo_store.path, store.path, symlinks=True)
    result = evaluate(store, EvalConfig(heads=("creator_prior",), moments=("pre_upload",), splits=("time",),
                                        n_boot=20, progress=False))
    runs_before = store.count("runs")
    real = Store.upsert

    def crash_on_runs(self, name, rows, **kw):
        if name == "runs":
            raise OSError("disk full")
        return real(self, name, rows, **kw)

    monkeypatch.setattr(Store, "upsert", crash_on_runs)
    with pytest.raises(OSError):
        record_runs(store, result)
    assert store.count("runs") == runs_before
    orphans = sql(store, "SELECT count(*) AS n FROM runs r WHERE NOT EXISTS "
                         "(SELECT 1 FROM predictions p WHERE p.run_id = r.run_id) AND r.kind = 'eval'").to_pylist()
    assert orphans == [{"n": 0}]
