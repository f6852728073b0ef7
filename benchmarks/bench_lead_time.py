"""Lead time of ``miles watch``: how well each moment's scores pick the videos that break out, and how long
before the label is known the first alert comes.

    python benchmarks/bench_lead_time.py --store demo-store --days 60 --every 6h --alert-above 0.5

On a copy of the store, the heads (pre-upload and 6 h, LightGBM) are trained again on the videos whose outcome
was known before the replay starts (``miles train --before``: scoring videos a head was trained on would flatter
it), then ``watch_pass`` is replayed on a fake clock: a pass every ``--every`` over the last ``--days`` before
the store's latest upload (no tracking: the snapshots are already there, and each score reads only what its
moment allows). Each video scored at a moment is compared with its final label: AUROC
with a creator-bootstrap 95% interval, precision and recall at the alert threshold, and the median hours
from a video's first alert to the moment its label becomes known (publish + the label age). Prints a table.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def replay(store, days: float, every: str, alert_above: float, moments: list[str]):
    from miles.heads.train import train_heads
    from miles.queries.watch import watch_pass

    end = pd.Timestamp(store.read("videos", columns=["published_at"]).to_pandas()["published_at"].max())
    start = end - pd.Timedelta(days=days)
    train_heads(store, ["lightgbm"], tuple(moments), before=start)
    t0 = time.perf_counter()
    passes = pd.date_range(start, end, freq=every)
    for t in passes:
        watch_pass(store, t.to_pydatetime(), alert_above=alert_above)
    return len(passes), time.perf_counter() - t0


def table(store, alert_above: float, head: str = "lightgbm") -> list[dict]:
    from miles.eval.metrics import bootstrap_weights, with_interval
    from miles.heads.deployed import read_meta
    from miles.heads.labels import LabelSpec
    from miles.queries.cache import store_view

    spec = LabelSpec(**read_meta(store, head)["label_spec"])
    out = store_view(store).outcomes(spec)
    final = out[out["final"]].set_index("video_id")
    scores = store.read("scores").to_pandas()
    scores = scores[scores["video_id"].isin(final.index)]
    rows = []
    for moment, s in scores.groupby("moment"):
        y = final.loc[s["video_id"], "viral"].to_numpy(dtype=float)
        p = s["p_viral"].to_numpy()
        creators = final.loc[s["video_id"], "creator_id"].to_numpy()
        auc = with_interval("auroc", y, p, bootstrap_weights(creators, 500)) if 0 < y.sum() < len(y) else (np.nan,) * 3
        flag = p >= alert_above
        rows.append({"moment": moment, "videos": len(s), "viral": int(y.sum()), "auroc": auc,
                     "precision": float(y[flag].mean()) if flag.any() else np.nan,
                     "recall": float(flag[y == 1].mean()) if (y == 1).any() else np.nan})
    first = scores[scores["alert"]]
    known = final.loc[first["video_id"], "outcome_known_at"].to_numpy()
    lead = ((pd.to_datetime(known, utc=True) - pd.DatetimeIndex(pd.to_datetime(first["scored_at"], utc=True)))
            .total_seconds().to_numpy() / 3600)
    hits = final.loc[first["video_id"], "viral"].to_numpy(dtype=bool)
    rows.append({"moment": "first alert", "videos": len(first), "viral": int(hits.sum()), "auroc": (np.nan,) * 3,
                 "precision": float(hits.mean()) if len(hits) else np.nan,
                 "recall": float(hits.sum() / max(1, final.loc[scores["video_id"].unique(), "viral"].sum())),
                 "lead_h": float(np.median(lead)) if len(first) else np.nan,
                 "lead_h_hits": float(np.median(lead[hits])) if hits.any() else np.nan})
    return rows


def main() -> None:
    from miles.store import Store

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--days", type=float, default=60)
    ap.add_argument("--every", default="6h")
    ap.add_argument("--alert-above", type=float, default=0.5)
    ap.add_argument("--moments", nargs="+", default=["pre_upload", "early_6h"])
    args = ap.parse_args()
    print(f"# lead time · {platform.machine()} · {__import__('os').cpu_count()} cores · {time.strftime('%Y-%m-%d')}"
          f" · {args.store} · a pass every {args.every} over {args.days:g} days · alert at P ≥ {args.alert_above:g}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(shutil.copytree(Store.open(args.store, must_exist=True).path, Path(tmp) / "store"))
        passes, wall = replay(store, args.days, args.every, args.alert_above, args.moments)
        print(f"{passes} passes, {store.count('scores')} scores in {wall:.1f} s")
        print(f"{'moment':<12}{'videos':>7}{'viral':>6}{'AUROC [95%]':>22}{'precision':>10}{'recall':>8}"
              f"{'lead h (median)':>17}{'lead h, hits':>14}")
        for r in table(store, args.alert_above):
            a = r["auroc"]
            auc = "" if np.isnan(a[0]) else f"{a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}]"
            print(f"{r['moment']:<12}{r['videos']:>7}{r['viral']:>6}{auc:>22}{r['precision']:>10.2f}{r['recall']:>8.2f}"
                  + (f"{r['lead_h']:>17.1f}{r['lead_h_hits']:>14.1f}" if "lead_h" in r else ""))


if __name__ == "__main__":
    main()
