"""Train/test splits: forward in time (deployment), creator-disjoint (does content generalise?), both at
once (a new creator, later), and random (for comparison only).

The time splits also purge: a training row whose outcome became known after the test period starts is
dropped, because at deployment time that label would not exist yet.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from miles.errors import MilesError

Split = Literal["time", "creator", "time_creator", "random"]
SPLITS = ("time", "creator", "time_creator", "random")
NEEDS_CREATORS = ("creator", "time_creator")


def has_creators(frame: pd.DataFrame) -> bool:
    return bool(frame["creator_id"].notna().any())


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


def split_indices(frame: pd.DataFrame, kind: str, test_fraction: float = 0.3, seed: int = 0, purge: bool = True
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, test) of ``frame`` (which has published_at, outcome_known_at, creator_id).

    ``purge=False`` keeps training rows whose outcome time is later than the cut: only for sources that
    do not say when outcomes were observed (one crawl of everything), where the purge would drop them all."""
    n = len(frame)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if kind not in SPLITS:
        raise ValueError(f"unknown split {kind!r}; valid: {', '.join(SPLITS)}")
    if kind in NEEDS_CREATORS and not has_creators(frame):
        raise MilesError(f"the {kind} split needs creator ids, and no video here has one")
    groups = frame["creator_id"].astype(object).where(frame["creator_id"].notna(), frame["video_id"]).to_numpy()
    pub = frame["published_at"]
    if kind in ("time", "time_creator"):
        order = np.argsort(pub.to_numpy(), kind="stable")
        cut_time = pub.iloc[order[int(n * (1 - test_fraction))]]
        later = (pub >= cut_time).to_numpy()
        known = (frame["outcome_known_at"] <= cut_time).to_numpy() if purge else np.ones(n, bool)
        train_mask, test_mask = ~later & known, later
        if kind == "time_creator":
            # Forward in time and creator-disjoint: test creators are drawn among those posting after the
            # cut, and none of their videos trains.
            held = _creator_draw(groups, 0.5, seed, among=later)
            in_held = np.isin(groups, list(held))
            train_mask, test_mask = train_mask & ~in_held, later & in_held
        train, test = np.flatnonzero(train_mask), np.flatnonzero(test_mask)
    elif kind == "creator":
        mask = np.isin(groups, list(_creator_draw(groups, test_fraction, seed)))
        test, train = np.flatnonzero(mask), np.flatnonzero(~mask)
    else:
        perm = np.random.default_rng(seed).permutation(n)
        k = int(n * test_fraction)
        test, train = np.sort(perm[:k]), np.sort(perm[k:])
    if len(train) == 0 or len(test) == 0:
        hint = (" (no training outcome was observed before the test period: if the source has one crawl "
                "time for everything, pass --no-purge)" if kind.startswith("time") and purge and not len(train)
                else "")
        raise MilesError(f"the {kind} split left an empty side ({len(train)} train, {len(test)} test rows){hint}")
    # Heads take their early-stopping and calibration slices from the end of the training rows: keep them
    # in time order.
    train = train[np.argsort(pub.to_numpy()[train], kind="stable")]
    return train, test
