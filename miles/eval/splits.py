"""Train/test splits: forward in time (deployment), creator-disjoint (does content generalise?), both at
once (a new creator, later), and random (for comparison only).

    sp = split_indices(frame, "time", test_fraction=0.3, duplicates=clusters)
    train, test = sp                    # row positions; sp.info says what left training and why

Three rules keep a test outcome out of every training row:
- **Purge** (time splits): a training row whose outcome became known after the cut is dropped, because
  at deployment time that label would not exist yet (``purge=False`` only for sources crawled once, where
  nothing says when an outcome became known).
- **Embargo** (time splits): ``viral`` is the top fraction of a cohort (``miles.heads.labels``), so a
  row's label depends on every outcome in its cohort. A training row whose cohort holds a video published
  at or after the cut (a test video) is dropped too. (Its cohort may still hold a purged video, published
  before the cut, whose outcome came after it: that outcome shapes the week's threshold, not a test one.)
- **Duplicates stay on one side** (every split): a training row with the same content hash as a test row,
  or in the same near-duplicate cluster (``miles.eval.duplicates``), is dropped: a re-upload by another
  account would otherwise carry its twin's outcome across a creator-disjoint split.
A creator split needs creator ids on most rows (``MIN_CREATOR_SHARE``), else it is not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from miles.errors import MilesError

Split = Literal["time", "creator", "time_creator", "random"]
SPLITS = ("time", "creator", "time_creator", "random")
NEEDS_CREATORS = ("creator", "time_creator")
MIN_CREATOR_SHARE = 0.5  # a creator split needs creator ids on more than half of the rows


@dataclass
class SplitIndices:
    """Row positions of the two sides (training in time order) and what left training, by rule."""

    train: np.ndarray
    test: np.ndarray
    info: dict = field(default_factory=dict)  # purged, embargoed, duplicates, purge, cut

    def __iter__(self):
        return iter((self.train, self.test))


def creator_share(frame: pd.DataFrame) -> tuple[int, int]:
    """(rows with a creator id, rows)."""
    return int(frame["creator_id"].notna().sum()), int(len(frame))


def has_creators(frame: pd.DataFrame) -> bool:
    """Enough creator ids for a creator split: on more than ``MIN_CREATOR_SHARE`` of the rows."""
    k, n = creator_share(frame)
    return n > 0 and k > MIN_CREATOR_SHARE * n


def _creator_draw(groups: np.ndarray, fraction: float, seed: int, among=None) -> set:
    """Creators drawn in a seeded random order until they hold ``fraction`` of the rows (of ``among``); a
    creator who would carry the share far past it is passed over, so one prolific creator cannot turn a
    30% test side into 70%."""
    pool = groups if among is None else groups[among]
    uniq = np.unique(pool)
    np.random.default_rng(seed).shuffle(uniq)
    sizes = pd.Series(pool).value_counts()
    goal = fraction * len(pool)
    taken, chosen = 0, set()
    for g in uniq:
        if taken >= goal:
            break
        if chosen and taken + int(sizes[g]) > 1.15 * goal:
            continue
        chosen.add(g)
        taken += int(sizes[g])
    return chosen


def _time_masks(frame: pd.DataFrame, test_fraction: float, purge: bool) -> tuple[np.ndarray, np.ndarray, dict]:
    """(train mask, test mask, counts) of the forward split, with the purge and the cohort embargo."""
    pub = frame["published_at"]
    n = len(frame)
    order = np.argsort(pub.to_numpy(), kind="stable")
    cut = pub.iloc[order[int(n * (1 - test_fraction))]]
    later = (pub >= cut).to_numpy()
    known = (frame["outcome_known_at"] <= cut).to_numpy() if purge else np.ones(n, bool)
    settled = np.ones(n, bool)
    if "cohort_end" in frame:  # frames with labels (every frame ``assemble`` makes)
        settled = (frame["cohort_end"] < cut).to_numpy()
    info = {"cut": cut.isoformat(), "purge": bool(purge), "purged": int((~later & ~known).sum()),
            "embargoed": int((~later & known & ~settled).sum())}
    return ~later & known & settled, later, info


def split_indices(frame: pd.DataFrame, kind: str, test_fraction: float = 0.3, seed: int = 0, purge: bool = True,
                  duplicates: np.ndarray | None = None) -> SplitIndices:
    """Row positions (train, test) of ``frame`` (which has published_at, outcome_known_at, creator_id and,
    from ``assemble``, the cohort columns of the labels). ``duplicates``: a cluster id per row (-1: none),
    from ``miles.eval.duplicates.duplicate_clusters``."""
    n = len(frame)
    if not 0 < test_fraction < 1:
        raise MilesError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if kind not in SPLITS:
        raise MilesError(f"unknown split {kind!r}; valid: {', '.join(SPLITS)}")
    if kind in NEEDS_CREATORS and not has_creators(frame):
        k, total = creator_share(frame)
        raise MilesError(f"the {kind} split needs creator ids on most videos, and {k} of {total} have one")
    groups = frame["creator_id"].astype(object).where(frame["creator_id"].notna(), frame["video_id"]).to_numpy()
    info: dict = {"purge": None, "purged": 0, "embargoed": 0}
    if kind in ("time", "time_creator"):
        train_mask, test_mask, info = _time_masks(frame, test_fraction, purge)
        if kind == "time_creator":
            # Forward in time and creator-disjoint: test creators are drawn among those posting after the
            # cut, and none of their videos trains.
            held = _creator_draw(groups, 0.5, seed, among=test_mask)
            in_held = np.isin(groups, list(held))
            train_mask, test_mask = train_mask & ~in_held, test_mask & in_held
    elif kind == "creator":
        test_mask = np.isin(groups, list(_creator_draw(groups, test_fraction, seed)))
        train_mask = ~test_mask
    else:
        perm = np.random.default_rng(seed).permutation(n)
        test_mask = np.zeros(n, bool)
        test_mask[perm[: int(n * test_fraction)]] = True
        train_mask = ~test_mask
    info["duplicates"] = 0
    if duplicates is not None:
        twins = np.isin(duplicates, duplicates[test_mask & (duplicates >= 0)]) & (duplicates >= 0)
        info["duplicates"] = int((train_mask & twins).sum())
        train_mask &= ~twins
    train, test = np.flatnonzero(train_mask), np.flatnonzero(test_mask)
    if len(train) == 0 or len(test) == 0:
        raise MilesError(f"the {kind} split left an empty side ({len(train)} train, {len(test)} test rows)"
                         + _empty_hint(kind, purge, info, len(train)))
    # Heads take their early-stopping and calibration slices from the end of the training rows: keep them
    # in time order.
    pub = frame["published_at"].to_numpy()
    train = train[np.argsort(pub[train], kind="stable")]
    info.update(n_train=int(len(train)), n_test=int(len(test)))
    return SplitIndices(train, test, info)


def _empty_hint(kind: str, purge: bool, info: dict, n_train: int) -> str:
    if n_train or not kind.startswith("time"):
        return ""
    if info.get("embargoed") and not info.get("purged"):
        return (f" ({info['embargoed']} rows share a label cohort with a video published after the cut: a cohort "
                "that spans the whole time range, such as --cohort platform or none, cannot be split in time; use "
                "--cohort platform_week)")
    if purge:
        return (" (no training outcome was observed before the test period: if the source has one crawl time for "
                "everything, pass --no-purge)")
    return ""
