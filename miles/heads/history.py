"""What was known about a creator or a video at a moment: one implementation, for training rows, for a
draft that is not in the store yet, for the breakout label and for similar videos' standing.

    prior, n = creator_history(outcomes, creator_ids, times)       # median of outcomes known before each time
    index = TimeIndex.of(observations, "creator_id", "t", "creator_followers")
    log_f = np.log10(index.at(creator_ids, times) + 1)             # latest observation at or before each time

Every "latest at or before" lookup goes through one primitive, ``asof_positions``;
``tests/heads/test_leaks.py`` swaps it for a ``nearest`` lookup and shows that the leak tests catch it.
An index is built once per store version (``StoreView`` keeps it), so a draft's lookup costs microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappop, heappush

import numpy as np
import pandas as pd


def asof_positions(times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each of ``at``: the position in the sorted ``times`` of the last one at or before it (-1: none)."""
    return np.searchsorted(times, at, side="right") - 1


def seconds(t) -> np.ndarray:
    """UTC timestamps → float seconds since the epoch (NaT → NaN)."""
    s = pd.to_datetime(pd.Series(t), utc=True)
    return (s - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy(dtype=float)


def groups(keys, by: np.ndarray | None = None) -> list[tuple[object, np.ndarray]]:
    """(key, row positions) for each distinct non-null key, in one pass (no per-key scan of all rows);
    positions in row order, or ordered by ``by`` (stable) when given."""
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object).to_numpy(), use_na_sentinel=True)
    order = np.argsort(codes, kind="stable") if by is None else np.lexsort((by, codes))
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [(uniques[i], order[bounds[i]:bounds[i + 1]]) for i in range(len(uniques))]


def prefix_medians(values: np.ndarray, upto: int) -> np.ndarray:
    """``np.median(values[:k])`` for k = 1..upto (at position k-1), in one pass over two heaps: the lower
    half (negated, a max-heap) and the upper half. Equal to ``np.median``, bit for bit; O(k log k)."""
    lower: list[float] = []
    upper: list[float] = []
    out = np.empty(upto)
    for i, v in enumerate(values[:upto].tolist()):
        if lower and v > -lower[0]:
            heappush(upper, v)
        else:
            heappush(lower, -v)
        if len(lower) > len(upper) + 1:
            heappush(upper, -heappop(lower))
        elif len(upper) > len(lower):
            heappush(lower, -heappop(upper))
        out[i] = -lower[0] if len(lower) > len(upper) else (-lower[0] + upper[0]) / 2
    return out


def split_by_key(keys, t: np.ndarray, values: np.ndarray) -> dict:
    """{key: (its times sorted, its values in that order)}; equal times keep their order."""
    return {k: (t[idx], values[idx]) for k, idx in groups(keys, by=t)}


@dataclass
class TimeIndex:
    """Per key (a creator, a video): its observation times, sorted, and the values observed then."""

    by_key: dict

    @classmethod
    def of(cls, frame: pd.DataFrame, key: str, time: str, value: str) -> TimeIndex:
        f = frame[[key, time, value]].dropna()
        return cls(split_by_key(f[key], seconds(f[time]), f[value].to_numpy(dtype=float)))

    def at(self, keys, times) -> np.ndarray:
        """The value of each key's latest observation at or before each time (NaN where there is none)."""
        t = seconds(times)
        out = np.full(len(t), np.nan)
        for k, idx in groups(keys):
            if k not in self.by_key:
                continue
            known, values = self.by_key[k]
            ok = ~np.isnan(t[idx])
            pos = asof_positions(known, t[idx][ok])
            got = np.full(len(pos), np.nan)
            got[pos >= 0] = values[pos[pos >= 0]]
            out[idx[ok]] = got
        return out


@dataclass
class CreatorOutcomes:
    """Per creator: final outcomes sorted by when they became known (the input of ``creator_history``)."""

    by_creator: dict

    @classmethod
    def of(cls, outcomes: pd.DataFrame) -> CreatorOutcomes:
        o = outcomes.dropna(subset=["creator_id", "outcome_known_at", "velocity"])
        if "final" in o:
            o = o[o["final"].astype(bool)]
        return cls(split_by_key(o["creator_id"], seconds(o["outcome_known_at"]), o["velocity"].to_numpy(dtype=float)))


def creator_history(outcomes: pd.DataFrame | CreatorOutcomes, creator_ids, times, min_history: int = 1
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per query (creator, time): the median velocity of that creator's videos whose *final* outcome was
    known strictly before the time, and how many there were (NaN prior with fewer than ``min_history``).

    ``outcomes`` has ``creator_id, velocity, outcome_known_at`` and optionally ``final`` (a partial outcome,
    observed before the label age, never counts), or is already a ``CreatorOutcomes``."""
    index = outcomes if isinstance(outcomes, CreatorOutcomes) else CreatorOutcomes.of(outcomes)
    t = seconds(times)
    prior = np.full(len(t), np.nan)
    count = np.zeros(len(t), dtype=int)
    for c, idx in groups(creator_ids):
        if c not in index.by_creator:
            continue
        known, vel = index.by_creator[c]
        n = np.searchsorted(known, t[idx], side="left")  # strictly before
        medians = prefix_medians(vel, int(n.max()))
        count[idx] = n
        enough = n >= max(1, min_history)
        prior[idx[enough]] = medians[n[enough] - 1]
    return prior, count


def follower_observations(videos: pd.DataFrame, snapshots: pd.DataFrame) -> TimeIndex:
    """Every observation of a creator's followers (through any of their videos), indexed by creator."""
    snap = snapshots[["video_id", "observed_at", "creator_followers"]].dropna()
    snap = snap.merge(videos[["video_id", "creator_id"]], on="video_id").dropna(subset=["creator_id"])
    return TimeIndex.of(snap, "creator_id", "observed_at", "creator_followers")


def log_followers(count) -> np.ndarray:
    """The follower feature's scale: log10(followers + 1)."""
    return np.log10(np.asarray(count, dtype=float) + 1.0)


def followers_asof(observations: TimeIndex, creator_ids, times) -> np.ndarray:
    """log10(followers + 1) of each creator at the latest observation at or before each time; NaN where
    there is none."""
    return log_followers(observations.at(creator_ids, times))


def video_asof(snapshots: pd.DataFrame | dict, video_ids, times, columns: list[str]) -> pd.DataFrame:
    """The columns of each video's latest snapshot at or before each time (NaN where there is none);
    ``snapshots`` is the snapshots frame or ``{column: TimeIndex}`` built from it."""
    if isinstance(snapshots, pd.DataFrame):
        snapshots = {c: TimeIndex.of(snapshots, "video_id", "observed_at", c) for c in columns}
    return pd.DataFrame({c: snapshots[c].at(video_ids, times) for c in columns})
