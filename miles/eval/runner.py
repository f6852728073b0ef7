"""``miles eval``: fit each head on the training part of each split and score the test part, honestly.

    result = evaluate(store, EvalConfig(moments=("pre_upload",), splits=("time", "creator")))
    result.records     # [{"head", "moment", "split", "features", "metric", "value", "ci_low", "ci_high", "n"}]

No ``miles train`` is needed first. Each head is fitted exactly as ``miles train`` fits it
(``miles.heads.fit.fit_head``: models on the earlier training rows, calibration on the later ones), so
the metrics describe the probabilities ``predict`` shows. Labels are fit on the training rows of each
split only; PCA and early stopping inside the heads see training rows only; intervals resample creators.
A source without creator ids gets no creator splits and no creator prior, and the result says so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from miles.eval.metrics import CLASSIFICATION, REGRESSION, bootstrap_weights, paired_gain, with_interval
from miles.eval.splits import NEEDS_CREATORS, has_creators, split_indices
from miles.heads.dataset import FeatureSet, build_features
from miles.heads.fit import fit_head
from miles.heads.labels import LabelSpec
from miles.heads.train import head_inputs
from miles.store import Store

log = logging.getLogger(__name__)

ABLATIONS = (("metadata",), ("metadata", "text"), ("metadata", "image"), ("metadata", "text", "image"))


@dataclass
class EvalConfig:
    heads: tuple[str, ...] = ("baseline", "creator_prior", "lightgbm", "mlp")
    moments: tuple[str, ...] = ("pre_upload", "early_1h", "early_6h", "early_24h")
    splits: tuple[str, ...] = ("time", "creator", "time_creator", "random")
    spec: LabelSpec = field(default_factory=LabelSpec)
    test_fraction: float = 0.3
    n_boot: int = 1000
    seed: int = 0
    ablations: bool = True
    purge: bool = True  # time splits: drop training rows whose outcome was not yet known at the cut
    progress: bool = True


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
    X_test: np.ndarray | None = None
    p_raw: np.ndarray | None = None


@dataclass
class EvalResult:
    records: list[dict]
    gains: list[dict]
    fitted: list[Fitted]
    labels: dict  # (moment, split) -> (y_viral, y_velocity, groups) over all rows
    features: dict  # moment -> FeatureSet
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what was skipped, and why

    def table(self, metrics=("auroc", "velocity_mae")) -> pd.DataFrame:
        df = pd.DataFrame(self.records)
        df = df[df["metric"].isin(metrics)]
        df["cell"] = df.apply(lambda r: f"{r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]", axis=1)
        return df.pivot_table(index=["moment", "split", "head", "features"], columns="metric", values="cell",
                              aggfunc="first").reset_index()


def _variants(fs: FeatureSet, head: str, ablations: bool):
    """The block combinations a head is evaluated on (the baseline and the creator prior have one)."""
    if head in ("baseline", "creator_prior"):
        return [None]
    avail = fs.blocks()
    return [c for c in ABLATIONS if all(b in avail for b in c)] if ablations else [tuple(avail)]


def _plan(fs: FeatureSet, cfg: EvalConfig, notes: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The heads and splits this feature set supports; what is left out goes into ``notes``."""
    heads, splits = cfg.heads, cfg.splits
    if not has_creators(fs.frame):
        dropped = [s for s in splits if s in NEEDS_CREATORS] + (["creator_prior"] if "creator_prior" in heads else [])
        if dropped:
            notes.append(f"{fs.moment}: no video has a creator id, so there is no creator split and no creator "
                         f"prior (left out: {', '.join(dropped)})")
        splits = tuple(s for s in splits if s not in NEEDS_CREATORS)
        heads = tuple(h for h in heads if h != "creator_prior")
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
        for split in splits:
            _evaluate_split(fs, moment, split, heads, cfg, result)
            bar.update(len(cfg.heads))
    bar.close()
    result.seconds = time.perf_counter() - t0
    for note in result.notes:
        log.warning(note)
    return result


def fit_labels(frame: pd.DataFrame, train: np.ndarray, spec: LabelSpec) -> pd.DataFrame:
    """The labels of every row, with the viral thresholds fitted on the training rows only."""
    return spec.fit(frame.iloc[train]).transform(frame)


def fit_and_score(head: str, X, y: np.ndarray, v: np.ndarray, train: np.ndarray, test: np.ndarray, params: dict):
    """Fit one head on the training rows only (``fit_head``: its calibration slice is the latest of them)
    and score the test rows: (fitted head, raw P(viral), calibrated P(viral), velocity)."""
    fitted = fit_head(head, X[train], y[train], v[train], params)
    return (fitted, *fitted.predict(X[test]))


def _evaluate_split(fs: FeatureSet, moment: str, split: str, heads, cfg: EvalConfig, result: EvalResult) -> None:
    tr, te = split_indices(fs.frame, split, cfg.test_fraction, cfg.seed, cfg.purge)
    lab = fit_labels(fs.frame, tr, cfg.spec)
    y, v = lab["viral"].to_numpy(), fs.frame["velocity"].to_numpy()
    groups = fs.frame["creator_id"].astype(object).where(fs.frame["creator_id"].notna(), fs.frame["video_id"])
    groups = groups.to_numpy()
    result.labels[(moment, split)] = (y, v, groups)
    if len(np.unique(y[tr])) < 2:
        result.notes.append(f"{moment} {split}: the training rows hold one class only; nothing to fit")
        return
    W = bootstrap_weights(groups[te], cfg.n_boot, cfg.seed)
    scores: dict[tuple[str, str], Fitted] = {}
    for head in heads:
        for blocks in _variants(fs, head, cfg.ablations):
            X, features, params = head_inputs(fs, head, blocks, cfg.seed)
            fitted, raw, p, vel = fit_and_score(head, X, y, v, tr, te, params)
            Xte = X[te]
            f = Fitted(head, moment, split, features, te, p, vel, fitted.viral, Xte if head == "lightgbm" else None,
                       raw)
            result.fitted.append(f)
            scores[(head, features)] = f
            for metric in CLASSIFICATION + REGRESSION:
                s, target = (p, y[te]) if metric in CLASSIFICATION else (vel, v[te])
                val, lo, hi = with_interval(metric, target, s, W)
                result.records.append({"head": head, "moment": moment, "split": split, "features": features,
                                       "metric": metric, "value": val, "ci_low": lo, "ci_high": hi,
                                       "n": int(len(te))})
    for head in ("lightgbm", "mlp"):
        base = scores.get((head, "metadata"))
        for (h, features), f in scores.items():
            if h != head or base is None or features == "metadata":
                continue
            for metric, a, b, target in (("auroc", f.p_viral, base.p_viral, y[te]),
                                         ("velocity_mae", f.velocity, base.velocity, v[te])):
                val, lo, hi = paired_gain(metric, target, a, b, W)
                result.gains.append({"head": head, "moment": moment, "split": split, "features": features,
                                     "versus": "metadata", "metric": metric, "gain": val, "ci_low": lo,
                                     "ci_high": hi, "n": int(len(te))})
