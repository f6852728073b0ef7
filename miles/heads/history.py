"""What was known about a creator at a moment: followers and the outcomes of earlier videos.

One implementation, used for training rows, for a draft that is not in the store yet, for the breakout
label and for similar videos' "relative to the creator":

    prior, n = creator_history(outcomes, creator_ids, times)       # median of outcomes known before each time
    log_f = followers_asof(observations, creator_ids, times)        # latest observation at or before each time

Every lookup is an as-of join *backward* in time through ``asof``; ``tests/heads/test_leaks.py`` swaps it
for a ``nearest`` join and shows that the leak tests catch it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def asof(left: pd.DataFrame, right: pd.DataFrame, on: str, by: str) -> pd.DataFrame:
    """For each row of ``left``: the last row of ``right`` with the same ``by`` and ``on`` at or before its
    own (NaN where there is none). Both frames must be sorted by ``on``."""
    return pd.merge_asof(left, right, on=on, by=by, direction="backward", allow_exact_matches=True)


def _seconds(t) -> np.ndarray:
    """UTC timestamps → float seconds since the epoch (NaT → NaN)."""
    s = pd.to_datetime(pd.Series(t), utc=True)
    out = (s - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
    return out


def creator_history(outcomes: pd.DataFrame, creator_ids, times, min_history: int = 1
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per query (creator, time): the median velocity of that creator's videos whose *final* outcome was
    known strictly before the time, and how many there were (NaN prior with fewer than ``min_history``).

    ``outcomes`` has ``creator_id, velocity, outcome_known_at`` and optionally ``final`` (a partial outcome,
    observed before the label age, never counts)."""
    creators = pd.Series(creator_ids, dtype=object).to_numpy()
    t = _seconds(times)
    prior = np.full(len(creators), np.nan)
    count = np.zeros(len(creators), dtype=int)
    if outcomes.empty or not len(creators):
        return prior, count
    o = outcomes.dropna(subset=["creator_id", "outcome_known_at", "velocity"])
    if "final" in o:
        o = o[o["final"].astype(bool)]
    o = o.assign(_known=_seconds(o["outcome_known_at"])).sort_values("_known", kind="stable")
    by_creator = {c: (g["_known"].to_numpy(), g["velocity"].to_numpy(dtype=float))
                  for c, g in o.groupby("creator_id", sort=False)}
    queries = pd.DataFrame({"c": creators, "t": t, "i": np.arange(len(creators))}).dropna(subset=["c"])
    for c, q in queries.groupby("c", sort=False):
        if c not in by_creator:
            continue
        known, vel = by_creator[c]
        n = np.searchsorted(known, q["t"].to_numpy(), side="left")  # strictly before
        medians = {k: float(np.median(vel[:k])) for k in np.unique(n) if k >= max(1, min_history)}
        idx = q["i"].to_numpy()
        count[idx] = n
        prior[idx] = [medians.get(k, np.nan) for k in n]
    return prior, count


def follower_observations(videos: pd.DataFrame, snapshots: pd.DataFrame) -> pd.DataFrame:
    """``creator_id, t, creator_followers``: every observation of a creator's followers (through any of
    their videos), sorted by time, ready for ``followers_asof``."""
    snap = snapshots[["video_id", "observed_at", "creator_followers"]].dropna()
    snap = snap.merge(videos[["video_id", "creator_id"]], on="video_id").dropna(subset=["creator_id"])
    return snap.rename(columns={"observed_at": "t"})[["creator_id", "t", "creator_followers"]].sort_values(
        "t", kind="stable").reset_index(drop=True)


def followers_asof(observations: pd.DataFrame, creator_ids, times) -> np.ndarray:
    """log10(followers + 1) of each creator at the latest observation at or before each time; NaN where
    there is none."""
    creators = pd.Series(creator_ids, dtype=object).reset_index(drop=True)
    res = np.full(len(creators), np.nan)
    left = pd.DataFrame({"creator_id": creators, "t": pd.to_datetime(pd.Series(times), utc=True).reset_index(
        drop=True), "i": np.arange(len(creators))}).dropna(subset=["creator_id", "t"])
    if observations.empty or left.empty:
        return res
    right = observations.astype({"creator_id": object})
    left = left.astype({"creator_id": object}).sort_values("t", kind="stable")
    m = asof(left, right.astype({"t": left["t"].dtype}), on="t", by="creator_id")
    res[m["i"].to_numpy()] = np.log10(m["creator_followers"].to_numpy(dtype=float) + 1.0)
    return res


def video_asof(snapshots: pd.DataFrame, video_ids, times, columns: list[str]) -> pd.DataFrame:
    """The columns of each video's latest snapshot at or before each time (NaN where there is none)."""
    ids = pd.Series(video_ids, dtype=object).reset_index(drop=True)
    out = pd.DataFrame(np.nan, index=range(len(ids)), columns=columns)
    left = pd.DataFrame({"video_id": ids, "t": pd.to_datetime(pd.Series(times), utc=True).reset_index(drop=True),
                         "i": np.arange(len(ids))}).dropna(subset=["t"]).sort_values("t", kind="stable")
    if snapshots.empty or left.empty:
        return out
    right = snapshots[["video_id", "observed_at", *columns]].rename(columns={"observed_at": "t"})
    right = right.astype({"video_id": object, "t": left["t"].dtype}).sort_values("t", kind="stable")
    m = asof(left, right, on="t", by="video_id")
    for c in columns:
        out.loc[m["i"].to_numpy(), c] = m[c].to_numpy(dtype=float)
    return out
