"""What the models and video pages show, computed from the store (on a worker thread)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from miles.eval.plots import calibration_points, svg_lines
from miles.eval.verdicts import SPLIT_ORDER, SPLIT_WORDS, direction, head_words, verdicts
from miles.serve import charts

MOMENT = "pre_upload"  # the moment the served heads predict at


def models_context(service) -> dict:
    from sklearn.metrics import roc_curve

    from miles.heads.deployed import deployed
    from miles.queries.catalog import latest_gains, run_predictions

    ev = service.evaluation()
    heads = deployed(service.store)
    for h in heads:
        h["words"] = head_words(h["head"], h["features"])
    out = {"deployed": heads, "rows": [], "roc": "", "calibration": "", "verdicts": [], "split_words": SPLIT_WORDS,
           "direction": {m: direction(m) for m in ("auroc", "brier", "velocity_mae")}}
    if ev.empty:
        return out
    ev = ev[ev["moment"] == MOMENT]
    records = ev.drop(columns=["run_id", "n_test"]).to_dict("records")
    out["verdicts"] = [(SPLIT_WORDS.get(s, s), sentences)
                       for s, sentences in verdicts(records, latest_gains(service.store), MOMENT, service.head)]
    table = ev[ev["metric"].isin(["auroc", "brier", "velocity_mae"])]
    wide = table.pivot_table(index=["split", "head", "features"], columns="metric",
                             values=["value", "ci_low", "ci_high"], aggfunc="first")
    order = {s: i for i, s in enumerate(SPLIT_ORDER)}
    for (split, head, features), r in sorted(wide.iterrows(), key=lambda kr: order.get(kr[0][0], len(order))):
        out["rows"].append({"split": SPLIT_WORDS.get(split, split), "head": head_words(head, features),
                            **{m: (r[("value", m)], r[("ci_low", m)], r[("ci_high", m)])
                               for m in ("auroc", "brier", "velocity_mae") if ("value", m) in r.index}})
    widest = {h: max(g["features"], key=lambda f: f.count("+")) for h, g in ev.groupby("head")}
    roc, cal = [], []
    for head, features in widest.items():
        rows = ev[(ev["head"] == head) & (ev["features"] == features) & (ev["split"] == "time")]
        if rows.empty:
            continue
        p = run_predictions(service.store, rows["run_id"].iloc[0])
        if p["viral"].nunique() < 2:
            continue
        fpr, tpr, _ = roc_curve(p["viral"], p["p_viral"])
        roc.append((head_words(head, features), fpr, tpr))
        x, y = calibration_points(p["viral"].to_numpy(), p["p_viral"].to_numpy())
        cal.append((head_words(head, features), x, y))
    where = SPLIT_WORDS["time"]
    out["roc"] = svg_lines(roc, "false positive rate", "true positive rate", diagonal=True,
                           title=f"ROC on {where}") if roc else ""
    out["calibration"] = svg_lines(cal, "predicted chance of breaking out", "observed rate", diagonal=True,
                                   title=f"Calibration on {where}") if cal else ""
    return out


def video_context(service, video_id: str) -> dict:
    d = service.video(video_id)
    v = d["video"]
    pub = pd.Timestamp(v["published_at"])
    points = [((pd.Timestamp(s["observed_at"]) - pub).total_seconds() / 3600, float(s["views"]))
              for s in d["snapshots"] if s.get("views") is not None and not np.isnan(s["views"])]
    neighbours = service.similar(video_id=video_id, k=6) if points or v.get("title") else []
    return {"v": v, "label": d["label"], "snapshots": d["snapshots"], "neighbours": neighbours,
            "scores": service.score_history(video_id),
            "series": charts.time_series(points, "hours since publishing", "views")}
