"""Labels from outcomes: velocity, ``viral`` within a cohort, and the creator-relative breakout.

    spec = LabelSpec(age_hours=24, viral_fraction=0.2)
    outcomes = compute_outcomes(videos, snapshots, spec)    # one row per video with a known outcome
    fitted = spec.fit(outcomes[train_mask])                   # thresholds from training rows only
    labels = fitted.transform(outcomes)                       # viral / breakout for any rows

*velocity* = log10(views per hour) at ``age_hours`` after publishing, interpolated between the two
snapshots around that age; with no snapshot at or past that age, at the latest observation
(age = observed_at − published_at). ``outcome_known_at`` is when that number became known: a label may
only be used as history by predictions made after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

Cohort = Literal["platform_week", "platform", "none"]


@dataclass(frozen=True)
class LabelSpec:
    age_hours: float | None = 24.0  # None: always the latest observation
    viral_fraction: float = 0.2
    cohort: Cohort = "platform_week"
    breakout_margin: float = float(np.log10(2.0))  # velocity above the creator's trailing median by 2x
    min_history: int = 1  # earlier videos with known outcomes needed for a creator prior
    age_tolerance: float = 0.05  # a last snapshot within 5% short of age_hours still counts as at that age
    per_hour: bool = True  # False: the target is log10(views) itself (for sources whose age is unknown)

    def __post_init__(self):
        if not 0 < self.viral_fraction < 1:
            raise ValueError(f"viral_fraction must be in (0, 1), got {self.viral_fraction}")
        if self.age_hours is not None and self.age_hours <= 0:
            raise ValueError(f"age_hours must be positive or None, got {self.age_hours}")
        if self.cohort not in ("platform_week", "platform", "none"):
            raise ValueError(f"cohort must be platform_week, platform or none, got {self.cohort!r}")

    def fit(self, outcomes: pd.DataFrame) -> FittedLabels:
        """Fit the ``viral`` thresholds on these (training) rows only."""
        if outcomes.empty:
            raise ValueError("cannot fit label thresholds on zero rows")
        q = 1.0 - self.viral_fraction
        cohorts = cohort_keys(outcomes, self.cohort)
        per = outcomes.groupby(cohorts)["velocity"].quantile(q).to_dict()
        by_platform = outcomes.groupby(outcomes["platform"].fillna("unknown"))["velocity"].quantile(q).to_dict()
        return FittedLabels(self, per, by_platform, float(outcomes["velocity"].quantile(q)))


@dataclass(frozen=True)
class FittedLabels:
    spec: LabelSpec
    cohort_thresholds: dict = field(repr=False)
    platform_thresholds: dict = field(repr=False)
    global_threshold: float = 0.0

    def thresholds(self, outcomes: pd.DataFrame) -> np.ndarray:
        """Per row: its cohort's threshold; for a cohort unseen in training (a later week), its
        platform's; for an unseen platform, the global one."""
        keys = cohort_keys(outcomes, self.spec.cohort)
        platforms = outcomes["platform"].fillna("unknown")
        return np.array([
            self.cohort_thresholds.get(k, self.platform_thresholds.get(p, self.global_threshold))
            for k, p in zip(keys, platforms, strict=False)
        ], dtype=float)

    def transform(self, outcomes: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=outcomes.index)
        out["viral"] = (outcomes["velocity"].to_numpy() >= self.thresholds(outcomes)).astype(int)
        rel = outcomes["velocity"] - outcomes["creator_prior"]
        out["breakout"] = np.where(rel.isna(), np.nan, (rel > self.spec.breakout_margin).astype(float))
        return out


def cohort_keys(outcomes: pd.DataFrame, cohort: Cohort) -> pd.Series:
    platform = outcomes["platform"].fillna("unknown").astype(str)
    if cohort == "none":
        return pd.Series("all", index=outcomes.index)
    if cohort == "platform":
        return platform
    week = outcomes["published_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("W").astype(str)
    return platform + "|" + week


def compute_outcomes(videos: pd.DataFrame, snapshots: pd.DataFrame, spec: LabelSpec) -> pd.DataFrame:
    """One row per video with a computable velocity: ``video_id, creator_id, platform, published_at,
    velocity, age_hours, outcome_known_at, final, creator_prior, n_prior``.

    ``final`` says the outcome is at the spec's fixed age (not an earlier, partial observation).
    ``creator_prior`` is the median velocity of the same creator's *earlier* videos whose final outcome
    was known before this video was published (NaN with fewer than ``min_history``)."""
    v = videos[["video_id", "creator_id", "platform", "published_at"]].dropna(subset=["published_at"])
    s = snapshots[["video_id", "observed_at", "views"]].dropna()
    s = s.merge(v[["video_id", "published_at"]], on="video_id")
    s["age_h"] = (s["observed_at"] - s["published_at"]).dt.total_seconds() / 3600.0
    s = s[s["age_h"] > 0].sort_values(["video_id", "age_h"])
    rows = []
    for vid, g in s.groupby("video_id", sort=False):
        ages, views = g["age_h"].to_numpy(), g["views"].to_numpy(dtype=float)
        pub = g["published_at"].iloc[0]
        # At a fixed age the outcome is measured only when snapshots bracket that age (within the
        # tolerance): one observation long after it says nothing about the views at it.
        final = spec.age_hours is None or (ages[-1] >= spec.age_hours * (1 - spec.age_tolerance)
                                           and ages[0] <= spec.age_hours * (1 + spec.age_tolerance))
        if spec.age_hours is not None and final:
            a = min(max(spec.age_hours, float(ages[0])), float(ages[-1]))
            v_at = float(np.interp(a, np.r_[0.0, ages], np.r_[0.0, views]))
            known = pub + pd.Timedelta(hours=float(ages[np.searchsorted(ages, a)]))
        else:
            a, v_at = float(ages[-1]), float(views[-1])
            known = g["observed_at"].iloc[-1]
        rate = (v_at + 1.0) / max(a, 1.0) if spec.per_hour else v_at + 1.0
        rows.append((vid, float(np.log10(rate)), a, known, bool(final)))
    out = pd.DataFrame(rows, columns=["video_id", "velocity", "age_hours", "outcome_known_at", "final"])
    out = v.merge(out, on="video_id").sort_values("published_at", kind="stable").reset_index(drop=True)
    out[["creator_prior", "n_prior"]] = creator_history(out, spec.min_history)
    return out


def creator_history(outcomes: pd.DataFrame, min_history: int = 1) -> pd.DataFrame:
    """Per row: the median velocity of the creator's videos whose outcome was known strictly before this
    row's ``published_at``, and how many there were. Point-in-time: nothing later is used."""
    prior = np.full(len(outcomes), np.nan)
    count = np.zeros(len(outcomes), dtype=int)
    final = outcomes["final"] if "final" in outcomes else pd.Series(True, index=outcomes.index)
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    # Seconds since the epoch; a partial (not final) outcome never counts as history: NaN compares false.
    known_s = (outcomes["outcome_known_at"] - epoch).dt.total_seconds().where(final.astype(bool))
    pub_s = (outcomes["published_at"] - epoch).dt.total_seconds()
    for _, g in outcomes.groupby("creator_id", sort=False, dropna=True):
        pos = outcomes.index.get_indexer(g.index)
        known, vel = known_s.to_numpy()[pos], g["velocity"].to_numpy()
        for p, pub in zip(pos, pub_s.to_numpy()[pos]):
            mask = known < pub
            n = int(mask.sum())
            count[p] = n
            if n >= min_history:
                prior[p] = float(np.median(vel[mask]))
    return pd.DataFrame({"creator_prior": prior, "n_prior": count}, index=outcomes.index)
