"""A tampered LightGBM model is one clear refusal, never a crash or a hang (LightGBM's parser trusts its
input: the first test shows the crash the check prevents)."""

import re
import subprocess
import sys

import numpy as np
import pytest

from miles.heads.lgb_check import TamperedModel, checked_model_text


@pytest.fixture(scope="module")
def model():
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 7}, lgb.Dataset(X, y), 20)
    return booster, booster.model_to_string(), X


def _set(text: str, key: str, tree: int, value: str) -> str:
    """``text`` with ``key=`` of tree ``tree`` replaced by ``value``."""
    start = text.index(f"Tree={tree}\n")
    at = text.index(f"\n{key}=", start) + 1
    end = text.index("\n", at)
    return text[:at] + f"{key}={value}" + text[end:]


def _first(text: str, key: str, tree: int = 0) -> list[str]:
    start = text.index(f"Tree={tree}\n")
    at = text.index(f"\n{key}=", start) + len(key) + 2
    return text[at:text.index("\n", at)].split()


def test_a_real_model_passes_and_predicts_the_same(model):
    import lightgbm as lgb

    booster, text, X = model
    checked = checked_model_text(text)
    assert "tree_sizes=" in text and "tree_sizes=" not in checked
    assert np.array_equal(lgb.Booster(model_str=checked).predict(X), booster.predict(X))


def tampered(text: str) -> dict[str, str]:
    feats, left = _first(text, "split_feature"), _first(text, "left_child")
    return {
        "a feature far out of range": _set(text, "split_feature", 0, " ".join(["900000000"] + feats[1:])),
        "a child out of range": _set(text, "left_child", 0, " ".join(["4000"] + left[1:])),
        "a leaf out of range": _set(text, "left_child", 0, " ".join(["-4000"] + left[1:])),
        "a root that is its own child": _set(text, "left_child", 0, " ".join(["0"] + left[1:])),
        "too few thresholds": _set(text, "threshold", 1, "0.5"),
        "a number that is not one": _set(text, "leaf_value", 2, "x " * 7),
        "too many leaves": _set(text, "num_leaves", 0, "999999999"),
        "a linear tree": _set(text, "is_linear", 0, "1"),
        "no end": text.replace("end of trees", "eot"),
        "not a model": "hello",
        "features the names disagree with": text.replace("max_feature_idx=5", "max_feature_idx=9"),
    }


CASES = ["a feature far out of range", "a child out of range", "a leaf out of range", "a root that is its own child",
         "too few thresholds", "a number that is not one", "too many leaves", "a linear tree", "no end",
         "not a model", "features the names disagree with"]


@pytest.mark.parametrize("case", CASES)
def test_each_tampering_is_refused(model, case):
    with pytest.raises(TamperedModel, match="run `miles train` again"):
        checked_model_text(tampered(model[1])[case])


def test_tree_sizes_that_disagree_no_longer_abort(model):
    import lightgbm as lgb

    booster, text, X = model
    wrong = re.sub(r"^tree_sizes=(\d+)", lambda m: f"tree_sizes={int(m.group(1)) + 7}", text, count=1, flags=re.M)
    assert np.array_equal(lgb.Booster(model_str=checked_model_text(wrong)).predict(X), booster.predict(X))


def test_without_the_check_lightgbm_crashes_on_the_same_file(model, tmp_path):
    bad = tmp_path / "model.txt"
    bad.write_text(tampered(model[1])["a feature far out of range"])
    code = ("import sys, numpy as np, lightgbm as lgb\n"
            "b = lgb.Booster(model_str=open(sys.argv[1]).read())\n"
            "b.predict(np.zeros((1, 6)))\n")
    run = subprocess.run([sys.executable, "-c", code, str(bad)], capture_output=True, timeout=120)
    assert run.returncode < 0, run.returncode  # killed by a signal (SIGSEGV): the whole process gone
