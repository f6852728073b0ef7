"""Train/test splits: forward in time (deployment), creator-disjoint (does content generalise?), random
(for comparison only).

The time split also purges: a training row whose outcome became known after the test period starts is
dropped, because at deployment time that label would not exist yet.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Split = Literal["time", "creator", "random"]
SPLITS = ("time", "creator", "random")


def split_indices(frame: pd.DataFrame, kind: str, test_fraction: float = 0.3, seed: int = 0, purge: bool = True
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, test) of ``frame`` (which has published_at, outcome_known_at, creator_id).

    ``purge=False`` keeps training rows whose outcome time is later than the cut: only for sources that
    do not say when outcomes were observed (one crawl of everything), where the purge would drop them all."""
    n = len(frame)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if kind == "time":
        order = np.argsort(frame["published_at"].to_numpy(), kind="stable")
        cut = order[int(n * (1 - test_fraction))]
        cut_time = frame["published_at"].iloc[cut]
        test = np.flatnonzero((frame["published_at"] >= cut_time).to_numpy())
        known = (frame["outcome_known_at"] <= cut_time) if purge else True
        train = np.flatnonzero(((frame["published_at"] < cut_time) & known).to_numpy())
    elif kind == "creator":
        groups = frame["creator_id"].fillna(frame["video_id"]).to_numpy()
        uniq = np.unique(groups)
        rng = np.random.default_rng(seed)
        rng.shuffle(uniq)
        sizes = pd.Series(groups).value_counts()
        taken, chosen = 0, set()
        for g in uniq:
            if taken >= test_fraction * n:
                break
            chosen.add(g)
            taken += int(sizes[g])
        mask = np.isin(groups, list(chosen))
        test, train = np.flatnonzero(mask), np.flatnonzero(~mask)
    elif kind == "random":
        perm = np.random.default_rng(seed).permutation(n)
        k = int(n * test_fraction)
        test, train = np.sort(perm[:k]), np.sort(perm[k:])
    else:
        raise ValueError(f"unknown split {kind!r}; valid: {', '.join(SPLITS)}")
    if len(train) == 0 or len(test) == 0:
        hint = (" (no training outcome was observed before the test period: if the source has one crawl "
                "time for everything, pass --no-purge)" if kind == "time" and purge and not len(train) else "")
        raise ValueError(f"the {kind} split left an empty side ({len(train)} train, {len(test)} test rows){hint}")
    # Heads take their early-stopping slice from the end of the training rows: keep them in time order.
    train = train[np.argsort(frame["published_at"].to_numpy()[train], kind="stable")]
    return train, test
