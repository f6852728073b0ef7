"""``miles eval``: fit each head on the training part of each split and score the test part, honestly.

    result = evaluate(store, EvalConfig(moments=("pre_upload",), splits=("time", "creator")))
    result.records     # [{"head", "moment", "split", "features", "metric", "value", "ci_low", "ci_high", "n"}]

No ``miles train`` is needed first. Each head is fitted exactly as ``miles train`` fits it
(``miles.heads.fit.fit_head``: models on the earlier training rows, the self-check and calibration on the
later ones), so the metrics describe the probabilities ``predict`` shows. Labels are the store's one
definition (``miles.heads.labels``); the splits purge, embargo the cohorts that straddle a time cut and keep
duplicates on one side (``miles.eval.splits``); PCA and early stopping inside the heads see training rows
only; metric intervals resample creators (videos, where a source has no creator ids). On the splits in
``EvalConfig.intervals`` each deployable head is also refitted on resamples, as ``train`` does, and the
coverage of its probability and velocity intervals is measured on the test rows (``miles.eval.coverage``).
A source without enough creator ids gets no creator splits, and the result says so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from miles.eval.coverage import coverage_records
from miles.eval.duplicates import feature_set_clusters
from miles.eval.encoders import compare_encoders, encoder_language_note, other_text
from miles.eval.metrics import CLASSIFICATION, REGRESSION, bootstrap_weights, paired_gain, with_interval
from miles.eval.splits import NEEDS_CREATORS, creator_share, has_creators, split_indices
from miles.heads.dataset import FeatureSet, build_features
from miles.heads.fit import RESAMPLES, FittedHead, fit_head
from miles.heads.inputs import creator_groups, head_inputs
from miles.heads.labels import LabelSpec
from miles.heads.registry import head_kind, list_heads
from miles.store import Store

log = logging.getLogger(__name__)

ABLATIONS = (("metadata",), ("metadata", "text"), ("metadata", "image"), ("metadata", "text", "image"))


@dataclass
class EvalConfig:
    heads: tuple[str, ...] = tuple(list_heads())
    moments: tuple[str, ...] = ("pre_upload", "early_1h", "early_6h", "early_24h")
    splits: tuple[str, ...] = ("time", "creator", "time_creator", "random")
    spec: LabelSpec = field(default_factory=LabelSpec)
    test_fraction: float = 0.3
    n_boot: int = 1000
    seed: int = 0
    ablations: bool = True
    purge: bool = True  # time splits: drop training rows whose outcome was not yet known at the cut
    progress: bool = True
    intervals: tuple[str, ...] = ("time",)  # splits on which the deployable heads' intervals are measured
    compare_encoders: bool = True  # fit the blocks heads again with each other text table (miles.eval.encoders)


@dataclass
class Fitted:
    """One head fitted on one split: its test scores, kept for curves, gains and the report."""

    head: str
    moment: str
    split: str
    features: str
    test_idx: np.ndarray
    p_viral: np.ndarray  # calibrated, as predict shows it
    velocity: np.ndarray
    model: object = None  # the viral model (for SHAP)
    X_test: np.ndarray | None = None  # the columns the model reads
    p_raw: np.ndarray | None = None
    fitted: FittedHead | None = None
    interval: tuple[np.ndarray, np.ndarray] | None = None  # (low, high) of P on the test rows


@dataclass
class EvalResult:
    records: list[dict]
    gains: list[dict]
    fitted: list[Fitted]
    labels: dict  # (moment, split) -> (y_viral, y_velocity, groups) over all rows
    features: dict  # moment -> FeatureSet
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what was skipped or changed, and why
    splits: dict = field(default_factory=dict)  # (moment, split) -> what the split did (counts, purge, cut)
    unit: str = "creators"  # what the metric intervals resample: creators, or videos without creator ids

    def table(self, metrics=("auroc", "velocity_mae")) -> pd.DataFrame:
        df = pd.DataFrame(self.records)
        df = df[df["metric"].isin(metrics)]
        df["cell"] = df.apply(lambda r: f"{r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]", axis=1)
        return df.pivot_table(index=["moment", "split", "head", "features"], columns="metric", values="cell",
                              aggfunc="first").reset_index()


def _variants(fs: FeatureSet, head: str, ablations: bool):
    """The block combinations a head is evaluated on (the baseline and the creator prior have one)."""
    if head_kind(head).reads != "blocks":
        return [None]
    avail = fs.blocks()
    return [c for c in ABLATIONS if all(b in avail for b in c)] if ablations else [tuple(avail)]


def _plan(fs: FeatureSet, cfg: EvalConfig, notes: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The heads and splits this feature set supports; what is left out goes into ``notes``."""
    heads, splits = cfg.heads, cfg.splits
    k, n = creator_share(fs.frame)
    if not has_creators(fs.frame):
        dropped = [s for s in splits if s in NEEDS_CREATORS]
        if dropped:
            notes.append(f"{fs.moment}: only {k} of {n} videos have a creator id, too few to hold creators out, so "
                         f"these splits did not run: {', '.join(dropped)}")
        splits = tuple(s for s in splits if s not in NEEDS_CREATORS)
    needing = [h for h in heads if head_kind(h).needs_creators]
    if k == 0 and needing:
        notes.append(f"{fs.moment}: no video has a creator id, so there is no creator prior (left out: "
                     f"{', '.join(needing)})")
        heads = tuple(h for h in heads if h not in needing)
    return heads, splits


def evaluate(store: Store, config: EvalConfig | None = None) -> EvalResult:
    from tqdm.auto import tqdm

    cfg = config or EvalConfig()
    t0 = time.perf_counter()
    result = EvalResult([], [], [], {}, {})
    bar = tqdm(total=len(cfg.moments) * len(cfg.splits) * len(cfg.heads), desc="eval", unit="fit",
               disable=None if cfg.progress else True, leave=False)
    for moment in cfg.moments:
        fs = build_features(store, moment, cfg.spec)
        result.features[moment] = fs
        heads, splits = _plan(fs, cfg, result.notes)
        if not has_creators(fs.frame):
            result.unit = "videos"
        dups = feature_set_clusters(fs)
        alts = other_text(store, fs) if cfg.compare_encoders else {}
        note = encoder_language_note(store, fs, alts)
        if note:
            result.notes.append(f"{moment}: {note}")
        for split in splits:
            _evaluate_split(fs, moment, split, heads, cfg, result, dups, alts)
            bar.update(len(cfg.heads))
    bar.close()
    result.seconds = time.perf_counter() - t0
    for note in result.notes:
        log.warning(note)
    return result


def fit_and_score(head: str, X, y: np.ndarray, v: np.ndarray, train: np.ndarray, test: np.ndarray, params: dict,
                  groups: np.ndarray | None = None, resamples: int = 0, seed: int = 0):
    """Fit one head on the training rows only (``fit_head``: its self-check and calibration slice are the
    latest of them) and score the test rows: (fitted head, raw P(viral), calibrated P(viral), velocity)."""
    fitted = fit_head(head, X[train], y[train], v[train], params,
                      groups=None if groups is None else groups[train], resamples=resamples, seed=seed)
    return (fitted, *fitted.predict(X[test]))


def _evaluate_split(fs: FeatureSet, moment: str, split: str, heads, cfg: EvalConfig, result: EvalResult,
                    dups: np.ndarray | None = None, alts: dict | None = None) -> None:
    sp = split_indices(fs.frame, split, cfg.test_fraction, cfg.seed, cfg.purge, duplicates=dups)
    tr, te = sp
    result.splits[(moment, split)] = {**sp.info, "cohort": cfg.spec.cohort}
    y, v = fs.frame["viral"].to_numpy(dtype=int), fs.frame["velocity"].to_numpy()
    groups = creator_groups(fs.frame)
    result.labels[(moment, split)] = (y, v, groups)
    if len(np.unique(y[tr])) < 2:
        result.notes.append(f"{moment} {split}: the training rows hold one class only; nothing to fit")
        return
    W = bootstrap_weights(groups[te], cfg.n_boot, cfg.seed)
    base = {"moment": moment, "split": split, "n": int(len(te)), "n_train": int(len(tr))}
    val, lo, hi = with_interval("mean", y[te], y[te].astype(float), W)
    result.records.append({**base, "head": "", "features": "", "metric": "prevalence", "value": val, "ci_low": lo,
                           "ci_high": hi})
    scores: dict[tuple[str, str], Fitted] = {}
    deployed: dict[str, Fitted] = {}

    def fit(head: str, X, params: dict, features: str, count: int = 0) -> Fitted:
        """Fit one head on the training rows, score the test rows and record its metrics."""
        fitted, raw, p, vel = fit_and_score(head, X, y, v, tr, te, params, groups, count, cfg.seed)
        f = Fitted(head, moment, split, features, te, p, vel, fitted.viral,
                   fitted.inputs(X[te]) if head_kind(head).explains else None, raw, fitted)
        result.notes += [f"{moment} {split} {features}: {n}" for n in fitted.notes]
        result.fitted.append(f)
        for metric in CLASSIFICATION + REGRESSION:
            s, target = (p, y[te]) if metric in CLASSIFICATION else (vel, v[te])
            val, lo, hi = with_interval(metric, target, s, W)
            result.records.append({**base, "head": head, "features": features, "metric": metric, "value": val,
                                   "ci_low": lo, "ci_high": hi})
        if count:
            f.interval = fitted.viral_interval(X[te], p)
            for metric, val, lo, hi in coverage_records(y[te], v[te], p, vel, f.interval, fitted, W):
                result.records.append({**base, "head": head, "features": features, "metric": metric,
                                       "value": val, "ci_low": lo, "ci_high": hi})
        return f

    for head in heads:
        variants = _variants(fs, head, cfg.ablations)
        for blocks in variants:
            X, features, params = head_inputs(fs, head, blocks, cfg.seed)
            deployable = blocks == variants[-1]  # every block there is: what ``miles train`` deploys
            f = scores[(head, features)] = fit(head, X, params, features,
                                               RESAMPLES if deployable and split in cfg.intervals else 0)
            if deployable:
                deployed[head] = f
    if alts:  # the store's other text tables, on the same test videos (miles.eval.encoders)
        compare_encoders(fs, alts, heads, lambda f, h: _variants(f, h, cfg.ablations), fit, y[te], W, scores,
                         result.gains, cfg.seed)
    _gains(result, scores, deployed, moment, split, y[te], v[te], W)


def _gains(result: EvalResult, scores: dict, deployed: dict, moment: str, split: str, y, v, W) -> None:
    """Paired gains on the same test rows: each deployable head over each one before it, the creator's own
    track record first (AUROC: which head is clearly best, whether the served one is), and each block
    combination over the same head on metadata alone (AUROC, Brier and velocity MAE)."""
    order = sorted(deployed, key=lambda h: head_kind(h).reads != "prior")  # the track record first
    for i, head in enumerate(order):
        for versus in order[:i]:
            val, lo, hi = paired_gain("auroc", y, deployed[head].p_viral, deployed[versus].p_viral, W)
            result.gains.append({"head": head, "moment": moment, "split": split, "features": deployed[head].features,
                                 "versus": versus, "metric": "auroc", "gain": val, "ci_low": lo,
                                 "ci_high": hi, "n": int(len(y))})
    for head in [h for h in deployed if head_kind(h).reads == "blocks"]:
        base_fit = scores.get((head, "metadata"))
        for (h, features), f in scores.items():
            if h != head or base_fit is None or features == "metadata":
                continue
            for metric, a, b, target in (("auroc", f.p_viral, base_fit.p_viral, y),
                                         ("brier", f.p_viral, base_fit.p_viral, y),
                                         ("velocity_mae", f.velocity, base_fit.velocity, v)):
                val, lo, hi = paired_gain(metric, target, a, b, W)
                result.gains.append({"head": head, "moment": moment, "split": split, "features": features,
                                     "versus": "metadata", "metric": metric, "gain": val, "ci_low": lo,
                                     "ci_high": hi, "n": int(len(y))})
