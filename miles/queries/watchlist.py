"""What the watchlist page shows: the live videos ``miles watch`` has scored, as of its latest pass.

    board = watchlist(store, "lightgbm")          # as of the latest stored score
    board["videos"][0]   # {"video_id", "title", "age_hours", "p", "interval", "moment", "alerted",
                         #  "history": [...], "views_at": {"1h": ...}, "neighbours_at": {...}, "creator_usual": ...}

A video is on the board while it is younger than the head's label age at the board's time; its history is
every score stored for it (one per moment), its views at 1, 6 and 24 hours are its own snapshots up to the
board's time, beside the median of its similar earlier videos at the same ages and its creator's earlier
videos at its current age (``miles.queries.live.progress``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from miles.heads.deployed import read_meta
from miles.heads.labels import LabelSpec
from miles.queries.cache import store_view
from miles.queries.live import AGES, progress
from miles.queries.similar import views_at
from miles.store import Store


def score_history(store: Store, video_id: str, head: str | None = None) -> list[dict]:
    """Every stored score of one video, oldest first."""
    f = pc.field("video_id") == video_id
    rows = store.read("scores", filter=f if head is None else f & (pc.field("head") == head)).to_pandas()
    return rows.sort_values(["scored_at", "age_hours"]).to_dict("records")


def watchlist(store: Store, head: str, now=None, limit: int = 20, neighbours: int = 3) -> dict:
    scores = store.read("scores", filter=pc.field("head") == head).to_pandas()
    meta = read_meta(store, head)
    if scores.empty or meta is None:
        return {"as_of": None, "videos": [], "label_age": None}
    spec = LabelSpec(**meta["label_spec"])
    as_of = pd.Timestamp(now) if now is not None else pd.Timestamp(scores["scored_at"].max())
    label_age = spec.age_hours or 168.0
    view = store_view(store)
    videos = view.videos.set_index("video_id")
    pub = pd.to_datetime(videos["published_at"], utc=True)
    young = set(pub[(pub <= as_of) & (pub > as_of - pd.Timedelta(hours=label_age))].index)
    scores = scores[scores["video_id"].isin(young) & (pd.to_datetime(scores["scored_at"], utc=True) <= as_of)]
    board = []
    for vid, rows in scores.sort_values("age_hours").groupby("video_id"):
        last = rows.iloc[-1]
        board.append({"video_id": vid, "title": videos.at[vid, "title"], "creator_id": videos.at[vid, "creator_id"],
                      "age_hours": round((as_of - pub[vid]).total_seconds() / 3600, 1), "moment": last["moment"],
                      "p": float(last["p_viral"]), "interval": [float(last["p_low"]), float(last["p_high"])],
                      "alerted": bool(rows["alert"].any()),
                      "history": [{"moment": r["moment"], "age_hours": float(r["age_hours"]), "p": float(r["p_viral"]),
                                   "lo": float(r["p_low"]), "hi": float(r["p_high"])} for _, r in rows.iterrows()]})
    board.sort(key=lambda b: -b["p"])
    board = board[:limit]
    for b in board:
        row = videos.loc[b["video_id"]].copy()
        row["video_id"] = b["video_id"]
        prog = progress(store, view, row, as_of.to_pydatetime(), spec, neighbours)
        b["views"], b["views_age"], b["creator_usual"] = prog["views"], prog["age_hours"], prog["creator_usual"]
        start = pub[b["video_id"]]
        ages = [h for h in AGES if start + pd.Timedelta(hours=h) <= as_of]
        own = views_at(view, [b["video_id"]] * len(ages), [start + pd.Timedelta(hours=h) for h in ages])
        b["views_at"] = {f"{h}h": (None if np.isnan(v) else int(v)) for h, v in zip(ages, own)}
        snaps = view.snapshots[view.snapshots["video_id"] == b["video_id"]]
        ages = (pd.to_datetime(snaps["observed_at"], utc=True) - start).dt.total_seconds() / 3600
        seen = snaps[(ages >= 0) & (pd.to_datetime(snaps["observed_at"], utc=True) <= as_of)].assign(age=ages)
        b["curve"] = [(float(a), float(v)) for a, v in seen.sort_values("age")[["age", "views"]].dropna().to_numpy()]
        near = [n["views_at"] for n in prog["neighbours"]]
        b["neighbours_at"] = {f"{h}h": (int(np.median(vals)) if (vals := [n[f"{h}h"] for n in near
                                                                            if n[f"{h}h"] is not None]) else None)
                              for h in AGES}
    return {"as_of": as_of.to_pydatetime(), "videos": board, "label_age": label_age}
