"""Labels from outcomes: velocity, ``viral`` within a cohort, and the creator-relative breakout.

    spec = LabelSpec(age_hours=168, viral_fraction=0.2)
    outcomes = compute_outcomes(videos, snapshots, spec)    # one row per video, its labels beside it
    outcomes[outcomes["final"]][["velocity", "viral", "relative_to_creator", "breakout"]]

*velocity* = log10(views per hour) at ``age_hours`` after publishing, interpolated between the two
snapshots around that age. The outcome is *final* only when a snapshot lies within ``age_tolerance`` of
that age, or snapshots on both sides of it lie within a factor ``max_gap`` of each other (one snapshot
at 1 h and the next at 30 days say little about the views at 7 days). Otherwise the row carries its latest
observation as a partial outcome, which is never a label and never creator history. ``age_hours=None``
uses the latest observation (age = observed_at − published_at). ``outcome_known_at`` is when that number
became known: a label may only be used as history by predictions made after it.

*viral* is defined here and nowhere else (``label``): the top ``viral_fraction`` of velocity within its
cohort (platform × upload week by default), over every video of the cohort whose final outcome is known.
Training rows, test rows, similar videos' evidence, the catalog, the dashboard and the SQL view
``videos_latest`` all read this one column, so a video has one flag everywhere; in every cohort about
``viral_fraction`` of videos are viral, so a probability means the same in every week.

The defaults here are the command line's defaults (``miles.cli`` reads them from this class).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from miles.errors import MilesError
from miles.heads.history import creator_history

Cohort = Literal["platform_week", "platform_day", "platform", "none"]
COHORTS = ("platform_week", "platform_day", "platform", "none")


@dataclass(frozen=True)
class LabelSpec:
    age_hours: float | None = 168.0  # None: always the latest observation
    viral_fraction: float = 0.2
    cohort: Cohort = "platform_week"
    breakout_margin: float = float(np.log10(2.0))  # velocity above the creator's trailing median by 2x
    min_history: int = 1  # earlier videos with known outcomes needed for a creator prior
    age_tolerance: float = 0.05  # a snapshot within 5% of age_hours counts as at that age
    max_gap: float = 2.0  # else the snapshots around age_hours must be within this factor of each other
    per_hour: bool = True  # False: the target is log10(views) itself (for sources whose age is unknown)

    def __post_init__(self):
        if not 0 < self.viral_fraction < 1:
            raise MilesError(f"viral_fraction must be in (0, 1), got {self.viral_fraction}")
        if self.age_hours is not None and self.age_hours <= 0:
            raise MilesError(f"age_hours must be positive or None, got {self.age_hours}")
        if self.max_gap <= 1:
            raise MilesError(f"max_gap must be above 1 (a ratio of snapshot ages), got {self.max_gap}")
        if self.cohort not in COHORTS:
            raise MilesError(f"cohort must be one of {', '.join(COHORTS)}, got {self.cohort!r}")


def label(outcomes: pd.DataFrame, spec: LabelSpec) -> pd.DataFrame:
    """The labels of ``outcomes`` (from ``compute_outcomes``), defined once for every place that shows them.

    ``viral``: the velocity is in the top ``viral_fraction`` of its cohort, the cohort being every video of
    that platform (and upload week) whose *final* outcome is known — a definition over the world, not a
    parameter fitted on one side of a split; NaN for a partial outcome. ``viral_threshold``: the cohort's
    cut. ``cohort_end``: the latest publish time among the cohort's final outcomes — a row's label depends
    on every video of its cohort, so a time split keeps a row out of training unless its cohort ended
    before the cut (``miles.eval.splits``).
    ``relative_to_creator``: velocity − the creator's prior as of publishing; ``breakout``: above it by
    ``breakout_margin`` (NaN without a prior)."""
    out = outcomes.copy()
    final = out["final"].astype(bool).to_numpy() if "final" in out else np.ones(len(out), bool)
    out["cohort"] = cohort_keys(out, spec.cohort).to_numpy()
    by = out[final].groupby("cohort")
    stats = pd.DataFrame({"viral_threshold": by["velocity"].quantile(1.0 - spec.viral_fraction),
                          "cohort_end": by["published_at"].max()})
    at = stats.reindex(out["cohort"].to_numpy())
    out["viral_threshold"] = at["viral_threshold"].to_numpy(dtype=float)
    out["cohort_end"] = pd.to_datetime(at["cohort_end"].to_numpy(), utc=True)
    viral = (out["velocity"].to_numpy() >= out["viral_threshold"].to_numpy()).astype(float)
    out["viral"] = np.where(final, viral, np.nan)
    rel = out["velocity"] - out["creator_prior"]
    out["relative_to_creator"] = rel
    out["breakout"] = np.where(rel.isna(), np.nan, (rel > spec.breakout_margin).astype(float))
    return out


def cohort_keys(outcomes: pd.DataFrame, cohort: Cohort) -> pd.Series:
    platform = outcomes["platform"].fillna("unknown").astype(str)
    if cohort == "none":
        return pd.Series("all", index=outcomes.index)
    if cohort == "platform":
        return platform
    # UTC days, and Monday-to-Sunday weeks numbered from the week of 1970-01-05 (a Monday). A source crawled
    # once over a few days (a homepage feed) has a single week: rank its videos within their day.
    days = (outcomes["published_at"] - pd.Timestamp("1970-01-05", tz="UTC")) // pd.Timedelta(days=1)
    if cohort == "platform_day":
        return platform + "|d" + days.astype("int64").astype(str)
    return platform + "|" + (days // 7).astype("int64").astype(str)


def compute_outcomes(videos: pd.DataFrame, snapshots: pd.DataFrame, spec: LabelSpec) -> pd.DataFrame:
    """One row per video with a computable velocity: ``video_id, creator_id, platform, published_at,
    velocity, age_hours, outcome_known_at, final, creator_prior, n_prior`` and the labels of ``label``.

    ``final`` says the outcome is at the spec's fixed age (not an earlier, partial observation).
    ``creator_prior`` is the median velocity of the same creator's *earlier* videos whose final outcome
    was known before this video was published (NaN with fewer than ``min_history``)."""
    v = videos[["video_id", "creator_id", "platform", "published_at"]].dropna(subset=["published_at"])
    s = _snapshot_ages(v, snapshots, ["views"])
    starts, final, a, v_at, at = _at_age(s["video_id"].to_numpy(), s["age_h"].to_numpy(dtype=float),
                                         s["views"].to_numpy(dtype=float), spec)
    rate = (v_at + 1.0) / np.maximum(a, 1.0) if spec.per_hour else v_at + 1.0
    out = pd.DataFrame({"video_id": s["video_id"].to_numpy()[starts], "velocity": np.log10(rate), "age_hours": a,
                        "outcome_known_at": s["observed_at"].iloc[at].reset_index(drop=True),
                        "final": final.astype(bool)})
    out = v.merge(out, on="video_id").sort_values("published_at", kind="stable").reset_index(drop=True)
    prior, n_prior = creator_history(out, out["creator_id"], out["published_at"], spec.min_history)
    out["creator_prior"], out["n_prior"] = prior, n_prior
    return label(out, spec)


def _snapshot_ages(videos: pd.DataFrame, snapshots: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Snapshots (with ``columns``, rows missing them dropped) of videos with a publish time: their age in
    hours (after publishing only), sorted by video and age."""
    v = videos[["video_id", "published_at"]].dropna()
    s = snapshots[["video_id", "observed_at", *columns]].dropna().merge(v, on="video_id")
    s["age_h"] = (s["observed_at"] - s["published_at"]).dt.total_seconds() / 3600.0
    return s[s["age_h"] > 0].sort_values(["video_id", "age_h"], kind="stable")


def _at_age(vid: np.ndarray, ages: np.ndarray, views: np.ndarray, spec: LabelSpec):
    """Per video (rows sorted by video and age, ages > 0): (first row, final, age used, views at that age,
    the row whose observation made it known). ``brackets``'s rule, for all videos at once; a final outcome
    interpolates the views at ``age_hours`` between the snapshots around it, any other is the latest."""
    n = len(ages)
    if not n:
        none = np.zeros(0, dtype=int)
        return none, none.astype(bool), none.astype(float), none.astype(float), none
    starts = np.flatnonzero(np.r_[True, vid[1:] != vid[:-1]])
    ends = np.r_[starts[1:], n].astype(int)
    last = ends - 1
    if spec.age_hours is None:
        return starts, np.ones(len(starts), dtype=bool), ages[last], views[last], last
    target = float(spec.age_hours)
    close = np.abs(np.log(ages / target)) <= np.log1p(spec.age_tolerance)
    n_below = np.add.reduceat((ages < target).astype(int), starts)
    n_upto = np.add.reduceat((ages <= target).astype(int), starts)
    below, above = starts + n_below - 1, starts + n_upto
    around = (n_below > 0) & (above < ends)
    gap = np.full(len(starts), np.inf)
    gap[around] = ages[above[around]] / ages[below[around]]
    final = np.logical_or.reduceat(close, starts) | (around & (gap <= spec.max_gap))
    a = np.clip(target, ages[starts], ages[last])
    j = starts + np.add.reduceat((ages < np.repeat(a, ends - starts)).astype(int), starts)  # first age >= a
    prev = np.maximum(j - 1, starts)
    step = np.where(j > prev, ages[j] - ages[prev], 1.0)
    interp = np.where(ages[j] == a, views[j], views[prev] + (a - ages[prev]) / step * (views[j] - views[prev]))
    return (starts, final, np.where(final, a, ages[last]), np.where(final, interp, views[last]),
            np.where(final, j, last))


def brackets(ages: np.ndarray, spec: LabelSpec) -> bool:
    """Do these snapshot ages (hours, sorted) pin down the views at ``spec.age_hours``? One within the
    tolerance, or one on each side within ``max_gap`` of each other (a ratio: a bounded gap in log time)."""
    target = spec.age_hours
    if np.any(np.abs(np.log(ages / target)) <= np.log1p(spec.age_tolerance)):
        return True
    below, above = ages[ages < target], ages[ages > target]
    return bool(len(below) and len(above) and above[0] / below[-1] <= spec.max_gap)


def coverage(videos: pd.DataFrame, snapshots: pd.DataFrame, spec: LabelSpec,
             moments_h: tuple[float, ...] = (1.0, 6.0, 24.0)) -> dict[str, int]:
    """How many videos have snapshots that pin down the views (``brackets``) at the label's age and at each
    early moment: what a collector's ladder has to achieve. ``{"videos": n, "168h": k, "1h": ..., ...}``."""
    from dataclasses import replace

    s = _snapshot_ages(videos, snapshots, [])
    vid, ages = s["video_id"].to_numpy(), s["age_h"].to_numpy(dtype=float)
    targets = ([spec.age_hours] if spec.age_hours else []) + [m for m in moments_h if m != spec.age_hours]
    out = {"videos": int(len(videos))}
    for t in targets:
        out[f"{t:g}h"] = int(_at_age(vid, ages, np.zeros(len(ages)), replace(spec, age_hours=float(t)))[1].sum())
    return out
