"""``miles eval`` end to end: evaluate, record runs and predictions, explain, write the report and JSON."""

from __future__ import annotations

import json
import logging
import uuid
import warnings
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from miles.eval.encoders import text_encoder
from miles.eval.explain import explain_rows, group_of, group_shapley, grouped, summary, tree_shap
from miles.eval.runner import EvalConfig, EvalResult, evaluate
from miles.heads.registry import head_kind
from miles.store import Store
from miles.store.lock import writer_lock

log = logging.getLogger(__name__)


GAIN = "gain_{metric}_over_{versus}"  # a paired gain among a run's metrics: how much better than ``versus``


def gain_name(metric: str, versus: str) -> str:
    return GAIN.format(metric=metric, versus=versus)


def read_gain_name(name: str) -> tuple[str, str] | None:
    """(metric, versus) of a paired gain's metric name; None for any other metric."""
    if not name.startswith("gain_") or "_over_" not in name:
        return None
    metric, versus = name.removeprefix("gain_").split("_over_", 1)
    return metric, versus


def record_runs(store: Store, result: EvalResult) -> int:
    """One ``runs`` row per fitted head variant, its test predictions in ``predictions``: a run is there
    with all its predictions or not at all. A run's metrics hold its paired gains too (over the other heads,
    over its own metadata-only variant), named by ``gain_name``, so a later reader can tell a real difference."""
    now = datetime.now(timezone.utc)
    metrics: dict[tuple, dict] = {}
    prevalence = {}
    for r in result.records:
        if r["metric"] == "prevalence":
            prevalence[(r["moment"], r["split"])] = {k: r[k] for k in ("value", "ci_low", "ci_high")}
            continue
        metrics.setdefault((r["head"], r["moment"], r["split"], r["features"]), {})[r["metric"]] = {
            "value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}
    for g in result.gains:
        metrics.setdefault((g["head"], g["moment"], g["split"], g["features"]), {})[gain_name(g["metric"], g["versus"])] = {
            "value": g["gain"], "ci_low": g["ci_low"], "ci_high": g["ci_high"]}
    runs, preds = [], []
    for f in result.fitted:
        run_id = uuid.uuid4().hex[:16]
        fs = result.features[f.moment]
        y, v, _ = result.labels[(f.moment, f.split)]
        split = result.splits.get((f.moment, f.split), {})
        m = metrics.get((f.head, f.moment, f.split, f.features), {})
        if (f.moment, f.split) in prevalence:
            m = {**m, "prevalence": prevalence[(f.moment, f.split)]}
        notes = [n for n in result.notes if n.startswith(f"{f.moment} {f.split} {f.features}: ")]
        runs.append({"run_id": run_id, "created_at": now, "kind": "eval", "head": f.head, "moment": f.moment,
                     "split": f.split, "features": f.features, "n_train": int(split.get("n_train", 0)),
                     "n_test": int(len(f.test_idx)), "metrics": json.dumps(m),
                     "config": json.dumps({"label_spec": asdict(fs.spec), "encoders": fs.encoders,
                                           "text_encoder": f.features.split("@", 1)[1] if "@" in f.features
                                           else text_encoder(fs),
                                           "store_versions": fs.store_versions, "split": split,
                                           "interval_unit": result.unit, "notes": notes}, default=str),
                     "artifact": None})
        vids = fs.frame["video_id"].to_numpy()[f.test_idx]
        preds += [{"run_id": run_id, "video_id": vid, "viral": int(y[i]), "p_viral": float(p),
                   "velocity": float(v[i]), "velocity_pred": float(q)}
                  for vid, i, p, q in zip(vids, f.test_idx, f.p_viral, f.velocity)]
    # Predictions first, runs second: a kill in between leaves predictions no run points to (invisible),
    # never a run without its predictions.
    store.insert_new("predictions", preds)
    store.upsert("runs", runs)
    return len(runs)


def shap_summary(result: EvalResult, moment: str, split: str = "creator", n_examples: int = 5) -> dict | None:
    fits = {(f.head, f.features): f for f in result.fitted if f.moment == moment and f.split == split}
    explained = [f for f in fits.values() if head_kind(f.head).explains and "@" not in f.features]
    lgb = max(explained, key=lambda f: f.features.count("+"), default=None)  # the widest TreeSHAP head
    if lgb is None or lgb.model is None:
        return None
    fs = result.features[moment]
    values, names = tree_shap(lgb.model, lgb.X_test, fs.scalar_names)
    gvals, gnames = grouped(values, names)
    scalar_cols = [j for j, n in enumerate(names) if n in fs.scalar_names]
    out = {"groups": summary(gvals, gnames), "features": summary(values[:, scalar_cols], [names[j] for j in scalar_cols])}
    frame = fs.frame.iloc[lgb.test_idx]
    top = explain_rows(gvals, gnames, top=3)
    order = np.argsort(-lgb.p_viral)[:n_examples]
    out["examples"] = [{"video_id": frame["video_id"].iloc[i], "title": str(frame["text"].iloc[i]), "top": top[i]}
                       for i in order]
    mlp = next((f for f in fits.values() if not head_kind(f.head).explains and head_kind(f.head).reads == "blocks"
                and f.features == lgb.features), None)  # a head TreeSHAP cannot read: exact group Shapley
    if mlp is not None and mlp.fitted is not None:
        blocks = lgb.features.split("+")
        X = fs.X(blocks)
        cols = fs.feature_names(blocks)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bg = np.nan_to_num(np.nanmean(X[np.setdiff1d(np.arange(len(X)), lgb.test_idx)], axis=0))
        sample = X[lgb.test_idx][:200]
        phi, gn = group_shapley(lambda Z: mlp.fitted.predict_raw(Z)[0], sample, bg, [group_of(c) for c in cols])
        out["mlp_groups"] = summary(phi, gn)
    return out


def served_head(result: EvalResult) -> str | None:
    """The head ``predict`` and the dashboard use unless told otherwise, when this evaluation has it."""
    from miles.heads.registry import DEFAULT_HEAD

    return DEFAULT_HEAD if any(f.head == DEFAULT_HEAD for f in result.fitted) else None


def run_eval(store: Store, config: EvalConfig | None = None, report: str | Path | None = None,
             json_path: str | Path | None = None) -> EvalResult:
    from miles.eval.report import write_report

    result = evaluate(store, config)
    with writer_lock(store, "eval"):
        n = record_runs(store, result)
    log.info("eval: %d head variants in %.0f s; runs and predictions recorded", n, result.seconds)
    if json_path:
        Path(json_path).write_text(json.dumps(result.records, indent=1))
    if report:
        moment = result.records[0]["moment"]
        splits = {r["split"] for r in result.records}
        shap = shap_summary(result, moment, "creator" if "creator" in splits else next(iter(splits)))
        write_report(result, report, shap, served=served_head(result))
    return result
