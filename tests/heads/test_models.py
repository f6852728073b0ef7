import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from miles.heads.mlp import MLPHead
from miles.heads.models import BaselineHead, CreatorPriorHead, LightGBMHead
from miles.heads.persist import load_head, save_head
from miles.heads.registry import create_head, list_heads

# The creator-prior head reads one column (the prior) by design, so the checks that expect a model to
# learn from every column do not apply to it.
PRIOR_ONE_COLUMN = "reads only the creator-prior column, by design"


def _expected(est):
    if isinstance(est, CreatorPriorHead):
        return {"check_regressors_train": PRIOR_ONE_COLUMN, "check_classifiers_train": PRIOR_ONE_COLUMN}
    return {}


@parametrize_with_checks([LightGBMHead(task="viral", n_estimators=30), LightGBMHead(task="velocity", n_estimators=30),
                          MLPHead(task="viral", epochs=20), MLPHead(task="velocity", epochs=20),
                          CreatorPriorHead(task="viral"), CreatorPriorHead(task="velocity")],
                         expected_failed_checks=_expected)
def test_sklearn_contract(estimator, check):
    check(estimator)


def data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    meta = rng.normal(size=(n, 4))
    meta[rng.random(n) < 0.1, 1] = np.nan  # unknown creator prior
    text = rng.normal(size=(n, 24))
    vel = meta[:, 0] + 0.5 * text[:, 0] + rng.normal(0, 0.3, n)
    viral = (vel > np.quantile(vel, 0.8)).astype(int)
    X = np.hstack([meta, text]).astype(np.float32)
    titles = np.array([f"{'Wait for it' if v else 'my day'} {i % 7}" for i, v in enumerate(viral)], dtype=object)
    return X, viral, vel, titles


BLOCKS = {"metadata": 4, "text": 24}


@pytest.mark.parametrize("name, task", [(h, t) for h in ("baseline", "creator_prior", "lightgbm", "mlp")
                                        for t in ("viral", "velocity")])
def test_save_then_load_gives_identical_predictions(tmp_path, name, task):
    X, viral, vel, titles = data()
    params = {"block_sizes": BLOCKS, "random_state": 0} if name in ("lightgbm", "mlp") else {}
    if name == "creator_prior":
        params = {"prior_column": 1}
    if name == "mlp":
        params["epochs"] = 15
    inputs = titles if name == "baseline" else X
    y = viral if task == "viral" else vel
    head = create_head(name, task=task, **params).fit(inputs, y)
    folder = save_head(head, tmp_path / "h", meta={"moment": "pre_upload", "features": ["x"]})
    assert (folder / "config.json").exists() and not list(folder.glob("*.pkl"))
    loaded, meta = load_head(folder)
    assert meta["moment"] == "pre_upload"
    if task == "viral":
        np.testing.assert_allclose(loaded.predict_proba(inputs), head.predict_proba(inputs), rtol=1e-6, atol=1e-7)
    else:
        np.testing.assert_allclose(loaded.predict(inputs), head.predict(inputs), rtol=1e-6, atol=1e-6)


def test_pca_is_fit_on_training_rows_only():
    X, _, vel, _ = data()
    head = LightGBMHead(task="velocity", block_sizes=BLOCKS, n_components=4, validation_fraction=0.15).fit(X, vel)
    n_fit = len(X) - int(len(X) * 0.15)  # the validation slice is held out from the reduction too
    np.testing.assert_allclose(head.reducer_.pcas_["text"].mean_, X[:n_fit, 4:].mean(axis=0), rtol=1e-5)


def test_heads_learn_the_signal():
    X, viral, vel, titles = data(600)
    tr, te = slice(0, 400), slice(400, 600)
    from sklearn.metrics import roc_auc_score

    for name in ("lightgbm", "mlp"):
        h = create_head(name, task="viral", block_sizes=BLOCKS).fit(X[tr], viral[tr])
        assert roc_auc_score(viral[te], h.predict_proba(X[te])[:, 1]) > 0.8, name
    b = BaselineHead().fit(titles[tr], viral[tr])
    assert roc_auc_score(viral[te], b.predict_proba(titles[te])[:, 1]) > 0.95  # the title gives it away here


def test_mlp_is_deterministic_on_cpu():
    X, viral, vel, _ = data()
    a = MLPHead(block_sizes=BLOCKS, epochs=5).fit(X, viral, y_aux=vel).predict_proba(X)
    b = MLPHead(block_sizes=BLOCKS, epochs=5).fit(X, viral, y_aux=vel).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_registry():
    assert list_heads() == ["baseline", "creator_prior", "lightgbm", "mlp"]
    with pytest.raises(ValueError, match="unknown head 'xgb'; valid: baseline"):
        create_head("xgb")
    with pytest.raises(ValueError, match="task must be"):
        LightGBMHead(task="views").fit(np.zeros((60, 2)), np.arange(60))


def test_saved_heads_check_their_format_and_library_versions(tmp_path, caplog):
    import json

    X, viral, _, _ = data()
    folder = save_head(LightGBMHead(task="viral", block_sizes=BLOCKS, n_estimators=20).fit(X, viral), tmp_path / "h")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["versions"]["lightgbm"] and cfg["files"] == ["model.txt"]
    cfg["versions"]["lightgbm"] = "0.0.1"
    (folder / "config.json").write_text(json.dumps(cfg))
    with caplog.at_level("WARNING"):
        load_head(folder)
    assert "lightgbm 0.0.1" in caplog.text
    cfg["format"] = 99
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="format 99"):
        load_head(folder)


def test_tree_shap_is_shaps_own_tree_explainer():
    """LightGBM's ``pred_contrib`` (what predictions use, without importing shap) equals SHAP's TreeExplainer."""
    shap = pytest.importorskip("shap")
    from miles.heads.explain import tree_shap

    X, viral, _, _ = data(400)
    head = LightGBMHead(task="viral", block_sizes=BLOCKS, n_components=4, n_estimators=60).fit(X, viral)
    names = [f"s{i}" for i in range(BLOCKS["metadata"])]
    values, cols = tree_shap(head, X[:50], names)
    ref = np.asarray(shap.TreeExplainer(head.model_.booster_).shap_values(head.transform_features(X[:50])))
    ref = ref[-1] if ref.ndim == 3 and ref.shape[0] == 2 else ref
    assert values.shape == ref.shape == (50, len(cols))
    np.testing.assert_allclose(values, ref, atol=1e-6)
    assert np.abs(values).max() > 0.01  # not all zero


def test_a_saved_lightgbm_head_predicts_without_scikit_learn_and_training_still_works_after(tmp_path):
    """A loaded LightGBM head is a BoosterHead: LightGBM imported without its scikit-learn wrappers (the
    import that costs a cold `miles predict` seconds); fitting afterwards in the same process imports it whole."""
    import json
    import subprocess
    import sys

    X, viral, _, _ = data()
    head = LightGBMHead(task="viral", block_sizes=BLOCKS, random_state=0).fit(X, viral)
    folder = save_head(head, tmp_path / "h")
    np.save(tmp_path / "X.npy", X)
    code = f"""
import json, sys
import numpy as np
from miles.heads.persist import load_head
X = np.load({str(tmp_path / "X.npy")!r})
loaded, _ = load_head({str(folder)!r})
p = loaded.predict_proba(X)[:, 1].tolist()
lean = "sklearn" not in sys.modules
from miles.heads.models import LightGBMHead
refit = LightGBMHead(task="viral", block_sizes={BLOCKS!r}, random_state=0).fit(X, np.asarray({viral.tolist()!r}))
print(json.dumps({{"lean": lean, "p": p, "refit": refit.predict_proba(X)[:, 1].tolist(), "type": type(loaded).__name__}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["type"] == "BoosterHead" and got["lean"], "loading a head imported scikit-learn"
    np.testing.assert_allclose(got["p"], head.predict_proba(X)[:, 1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got["refit"], head.predict_proba(X)[:, 1], rtol=1e-6, atol=1e-7)


def test_the_baseline_reads_titles_written_without_spaces():
    """Chinese and Japanese titles have no spaces, so the word n-grams see each title as one token; the
    character n-grams are what carry them: a two-character word that marks the breakouts is learned from
    titles that never repeat."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    pool = list("我试了网上爆火的泡面做法这个太可爱吧今天晚饭吃什么小蛋糕为中毒学生老师城市夜景旅行日常")
    titles, viral = [], []
    for i in range(400):
        body = "".join(rng.choice(pool, size=rng.integers(8, 16)))
        hit = bool(rng.random() < 0.3)
        titles.append((body[:4] + "猫咪" + body[4:] if hit else body) + str(i))
        viral.append(int(hit))
    titles, viral = np.array(titles, dtype=object), np.array(viral)
    b = BaselineHead().fit(titles[:300], viral[:300])
    assert roc_auc_score(viral[300:], b.predict_proba(titles[300:])[:, 1]) > 0.95
    words = b.vectoriser_.transformer_list[0][1].vocabulary_
    assert all(len(w) > 8 for w in words if not w.isdigit())  # whole titles, never a word
    assert "猫咪" in b.vectoriser_.transformer_list[1][1].vocabulary_
