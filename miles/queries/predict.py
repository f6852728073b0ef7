"""``miles predict``: how likely is a draft to break out, why, and which earlier videos like it did.

    out = predict(store, title="Wait for it... ramen hack", thumbnail="draft.jpg", creator_id="creator_0042")
    out["viral_probability"], out["velocity"], out["factors"], out["similar"]

The draft is encoded with the store's own encoders (fingerprints checked), turned into the ``pre_upload``
feature row exactly as training rows are (creator followers and history from the store, as of the planned
publish time), and scored by the trained head. The probability is recalibrated on the head's own
time-split evaluation predictions when there are some (isotonic), and the velocity interval is the
2.5–97.5% range of its evaluation residuals.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from miles.heads.features import REGISTRY
from miles.heads.labels import LabelSpec, compute_outcomes
from miles.heads.persist import load_head
from miles.heads.train import head_dir
from miles.queries.similar import query_vectors, similar
from miles.sources.parse import hashtags_in, parse_hashtags, parse_time
from miles.store import Store
from miles.store.text import compose_text

log = logging.getLogger(__name__)
MOMENT = "pre_upload"


_HEADS: dict[tuple, tuple] = {}


def _load(store: Store, head: str):
    viral_dir = head_dir(store, head, MOMENT, "viral")
    cfg = viral_dir / "config.json"
    key = (str(viral_dir.resolve()), cfg.stat().st_mtime_ns if cfg.exists() else 0)
    if key not in _HEADS:
        _HEADS[key] = _load_uncached(store, head)
    return _HEADS[key]


def _load_uncached(store: Store, head: str):
    viral_dir = head_dir(store, head, MOMENT, "viral")
    if not (viral_dir / "config.json").exists():
        raise ValueError(f"store {store.path} has no trained {head} head for {MOMENT}: run "
                         f"`miles train --store {store.path} --head {head}` (after `miles embed`)")
    clf, meta = load_head(viral_dir)
    reg = None
    if (head_dir(store, head, MOMENT, "velocity") / "config.json").exists():
        reg, _ = load_head(head_dir(store, head, MOMENT, "velocity"))
    return clf, reg, meta


def creator_state(store: Store, creator_id: str | None, at: datetime, spec: LabelSpec) -> tuple[float, float, float]:
    """(log10 followers, creator prior, n prior) of a creator as of ``at``, from the store."""
    if not creator_id:
        return np.nan, np.nan, 0.0
    cid = creator_id.replace("'", "")
    videos = store.read("videos", columns=["video_id", "creator_id", "platform", "published_at"],
                        filter=f"creator_id = '{cid}'").to_pandas()
    if videos.empty:
        return np.nan, np.nan, 0.0
    snaps = store.read("snapshots").to_pandas()
    snaps = snaps[snaps["video_id"].isin(set(videos["video_id"]))]
    t = pd.Timestamp(at)
    seen = snaps[(snaps["observed_at"] <= t) & snaps["creator_followers"].notna()].sort_values("observed_at")
    followers = float(np.log10(seen["creator_followers"].iloc[-1] + 1.0)) if len(seen) else np.nan
    out = compute_outcomes(videos, snaps, spec)
    known = out[out["final"] & (out["outcome_known_at"] < t)]
    prior = float(np.median(known["velocity"])) if len(known) >= spec.min_history else np.nan
    return followers, prior, float(len(known))


def feature_row(store: Store, meta: dict, title: str, hashtags: list[str], thumbnail: str | Path | None,
                duration: float | None, publish_at: datetime, followers: int | None, creator_id: str | None,
                timings: dict | None = None) -> tuple[np.ndarray, dict[str, float], dict[str, np.ndarray]]:
    spec = LabelSpec(**meta["label_spec"])
    log_f, prior, n_prior = creator_state(store, creator_id, publish_at, spec)
    if followers is not None:
        log_f = float(np.log10(followers + 1.0))
    scalars = {"duration_s": np.nan if duration is None else float(duration), "publish_hour": publish_at.hour,
               "publish_weekday": publish_at.weekday(), "title_chars": len(title), "title_words": len(title.split()),
               "hashtag_count": len(hashtags), "has_thumbnail": float(thumbnail is not None), "log_followers": log_f,
               "creator_prior": prior, "creator_n_prior": n_prior}
    names = meta["scalar_names"]
    parts = [np.array([[scalars[n] for n in names]], dtype=np.float32)]
    tables = {m: t for t, fp in meta.get("encoders", {}).items() for m in ("text", "image") if t.startswith(f"emb_{m}_")}
    vecs = query_vectors(store, tables, None, compose_text(title, hashtags), thumbnail, timings) if tables else {}
    for block in meta["blocks"]:
        if block == "metadata":
            continue
        dim = int(next(fp["dim"] for t, fp in meta["encoders"].items() if t.startswith(f"emb_{block}_")))
        parts.append(vecs.get(block, np.zeros(dim, dtype=np.float32))[None, :])
    return np.hstack(parts), scalars, vecs


_CALIBRATION: dict[tuple, tuple] = {}


def _eval_calibration(store: Store, head: str):
    """Isotonic map and velocity residual quantiles from this head's time-split evaluation predictions
    (computed once per version of the runs and predictions tables)."""
    key = (str(store.path.resolve()), head, store.version("runs") if store.has("runs") else 0,
           store.version("predictions") if store.has("predictions") else 0)
    if key not in _CALIBRATION:
        _CALIBRATION[key] = _eval_calibration_uncached(store, head)
    return _CALIBRATION[key]


def _eval_rows(store: Store, head: str):
    """The head's time-split evaluation predictions (viral, p_viral, velocity, velocity_pred), or None."""
    key = (str(store.path.resolve()), head, store.version("runs") if store.has("runs") else 0,
           store.version("predictions") if store.has("predictions") else 0, "rows")
    if key not in _CALIBRATION:
        _CALIBRATION[key] = _eval_rows_uncached(store, head)
    return _CALIBRATION[key]


def _eval_calibration_uncached(store: Store, head: str):
    rows = _eval_rows(store, head)
    if rows is None:
        return None, None
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(rows["p_viral"], rows["viral"])
    resid = (rows["velocity"] - rows["velocity_pred"]).to_numpy()
    return iso, np.percentile(resid, [2.5, 97.5])


def _eval_rows_uncached(store: Store, head: str):
    from miles.queries.sql import sql

    try:
        rows = sql(store, "SELECT p.viral, p.p_viral, p.velocity, p.velocity_pred FROM predictions p JOIN runs r "
                          f"USING (run_id) WHERE r.kind = 'eval' AND r.head = '{head}' AND r.moment = '{MOMENT}' "
                          "AND r.split = 'time' AND r.features = (SELECT max(features) FROM runs WHERE kind = 'eval' "
                          f"AND head = '{head}' AND moment = '{MOMENT}' AND split = 'time')").to_pandas()
    except Exception:  # no eval recorded yet
        return None
    return rows if len(rows) >= 50 else None


def _factors(clf, X: np.ndarray, scalar_names: list[str], scalars: dict, top: int = 5) -> list[dict]:
    from miles.eval.explain import grouped, tree_shap

    if not hasattr(clf, "reducer_"):
        return []
    values, names = tree_shap(clf, X, scalar_names)
    gvals, gnames = grouped(values, names)
    out = []
    for j in np.argsort(-np.abs(gvals[0]))[:top]:
        v = float(gvals[0, j])
        out.append({"kind": "group", "name": gnames[j], "effect": round(v, 4),
                    "says": f"{gnames[j]} {'raises' if v > 0 else 'lowers'} the odds of breaking out ({v:+.2f} log-odds)"})
    for j in np.argsort(-np.abs(values[0]))[: top * 3]:
        n = names[j]
        if n in scalar_names and len([f for f in out if f["kind"] == "feature"]) < top:
            v = float(values[0, j])
            desc = REGISTRY[n].description if n in REGISTRY else n
            val = scalars.get(n)
            shown = "unknown" if val is None or (isinstance(val, float) and np.isnan(val)) else f"{val:.3g}"
            out.append({"kind": "feature", "name": n, "value": None if shown == "unknown" else float(val),
                        "effect": round(v, 4), "says": f"{desc} = {shown} {'raises' if v > 0 else 'lowers'} the odds "
                                                       f"({v:+.2f})"})
    return out


def predict(store: Store, title: str, thumbnail: str | Path | None = None, duration: float | None = None,
            publish_at: str | datetime | None = None, followers: int | None = None, creator_id: str | None = None,
            hashtags: str | list[str] | None = None, head: str = "lightgbm", k: int = 5) -> dict:
    if not title or not title.strip():
        raise ValueError("--title is empty: give the draft's title (emoji-only is fine)")
    clf, reg, meta = _load(store, head)
    tags = parse_hashtags(hashtags) or hashtags_in(title)
    at = parse_time(publish_at) if publish_at else datetime.now(timezone.utc)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    X, scalars, vecs = feature_row(store, meta, title, tags, thumbnail, duration, at, followers, creator_id, timings)
    timings["features"] = time.perf_counter() - t - timings.get("text_encode", 0) - timings.get("image_encode", 0)
    if meta["features"] == "title":  # the TF-IDF baseline reads the text itself
        X = np.array([compose_text(title, tags)], dtype=object)
    elif meta["features"] == "creator_prior":
        X = X[:, : len(meta["scalar_names"])]
    t = time.perf_counter()
    p_raw = float(clf.predict_proba(X)[0, 1])
    velocity = float(reg.predict(X)[0]) if reg is not None else float(clf.predict_velocity(X)[0])
    iso, band = _eval_calibration(store, head)
    p = float(iso.predict([p_raw])[0]) if iso is not None else p_raw
    timings["heads"] = time.perf_counter() - t
    t = time.perf_counter()
    factors = _factors(clf, X, meta["scalar_names"], scalars)
    timings["shap"] = time.perf_counter() - t
    t = time.perf_counter()
    evidence = similar(store, k=k, viral_only=True, before=at, vectors=vecs, spec=LabelSpec(**meta["label_spec"]))
    timings["search"] = time.perf_counter() - t
    return {
        "head": head, "moment": MOMENT,
        "viral_probability": round(p, 4), "viral_probability_raw": round(p_raw, 4),
        "calibrated": iso is not None,
        "velocity": round(velocity, 4),
        "velocity_interval": None if band is None else [round(velocity + band[0], 4), round(velocity + band[1], 4)],
        "factors": factors,
        "similar": evidence,
        "inputs": {k2: (None if isinstance(v, float) and np.isnan(v) else v) for k2, v in scalars.items()},
        "timings_ms": {k2: round(v * 1000, 1) for k2, v in timings.items()},
    }


def to_json(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=1, default=str)
