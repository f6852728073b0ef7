"""What the models and video pages show, computed from the store (on a worker thread)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from miles.eval.plots import calibration_points, svg_lines
from miles.serve import charts

SPLIT_WORDS = {"time": "videos published after the training period", "creator": "creators never seen in training",
               "time_creator": "new creators, later", "random": "a random split (for comparison only)"}


def models_context(service) -> dict:
    from sklearn.metrics import roc_curve

    from miles.heads.deployed import deployed
    from miles.heads.registry import head_kind, list_heads
    from miles.queries.catalog import run_predictions

    ev = service.evaluation()
    out = {"deployed": deployed(service.store), "rows": [], "roc": "", "calibration": "", "gains": [],
           "split_words": SPLIT_WORDS}
    if ev.empty:
        return out
    ev = ev[ev["moment"] == "pre_upload"]
    table = ev[ev["metric"].isin(["auroc", "brier", "velocity_mae"])]
    wide = table.pivot_table(index=["split", "head", "features"], columns="metric",
                             values=["value", "ci_low", "ci_high"], aggfunc="first")
    for (split, head, features), r in wide.iterrows():
        out["rows"].append({"split": split, "head": head, "features": features,
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
        roc.append((f"{head} ({features})", fpr, tpr))
        x, y = calibration_points(p["viral"].to_numpy(), p["p_viral"].to_numpy())
        cal.append((head, x, y))
    out["roc"] = svg_lines(roc, "false positive rate", "true positive rate", diagonal=True) if roc else ""
    out["calibration"] = svg_lines(cal, "predicted P(viral)", "observed rate", diagonal=True) if cal else ""
    auroc = ev[ev["metric"] == "auroc"].set_index(["split", "head", "features"])["value"]
    for split in ("time", "creator", "time_creator"):
        for head in [h for h in list_heads() if head_kind(h).reads == "blocks"]:
            base, full = (split, head, "metadata"), (split, head, "metadata+text+image")
            if base in auroc.index and full in auroc.index:
                out["gains"].append({"split": split, "head": head, "base": auroc[base], "full": auroc[full]})
    return out


def video_context(service, video_id: str) -> dict:
    d = service.video(video_id)
    v = d["video"]
    pub = pd.Timestamp(v["published_at"])
    points = [((pd.Timestamp(s["observed_at"]) - pub).total_seconds() / 3600, float(s["views"]))
              for s in d["snapshots"] if s.get("views") is not None and not np.isnan(s["views"])]
    neighbours = service.similar(video_id=video_id, k=6) if points or v.get("title") else []
    return {"v": v, "label": d["label"], "snapshots": d["snapshots"], "neighbours": neighbours,
            "series": charts.time_series(points, "hours since publishing", "views")}
