"""``miles train``: fit the deployable heads on every row with a final outcome and save them in the store.

    rows = train_heads(store, heads=("lightgbm",), moments=("pre_upload",), spec=LabelSpec())
    fitted, meta = load_deployed(store, "lightgbm", "pre_upload")      # miles.heads.deployed

Each head is fitted by ``miles.heads.fit.fit_head`` (the same path as ``eval``): models on the earlier 80%
of rows, the self-check and calibration on the latest 20%, and ``RESAMPLES`` refits on resampled creators
for the interval. Its folder ``<store>/heads/<head>/<moment>`` holds ``viral/``, ``velocity/`` and
``resamples/NN/`` (``persist``) and ``head.json``: the label spec and what ``viral`` meant, the calibrations
and velocity band, the blocks the head reads after its self-check and what that check changed, the
feature list, encoder fingerprints and store versions. ``predict`` reads only that folder.
Each head is a ``runs`` row (kind ``train``) with its prediction for every training row in ``predictions``.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict
from datetime import datetime, timezone

import numpy as np

from miles.errors import MilesError
from miles.heads.dataset import build_features
from miles.heads.deployed import save_deployed
from miles.heads.fit import RESAMPLES, fit_head
from miles.heads.inputs import creator_groups, head_inputs
from miles.heads.labels import LabelSpec
from miles.heads.openings import learn_openings
from miles.heads.registry import head_kind, list_heads
from miles.store import Store
from miles.store.lock import writer_lock

log = logging.getLogger(__name__)


def _thresholds(frame) -> dict:
    """What ``viral`` meant on the training rows: each platform's median weekly cut, in velocity."""
    by = frame.groupby(frame["platform"].fillna("unknown"))["viral_threshold"].median()
    return {"platform": {str(k): float(t) for k, t in by.items()}, "global": float(frame["viral_threshold"].median())}


def train_heads(store: Store, heads=None, moments=("pre_upload",), spec: LabelSpec | None = None, seed: int = 0,
                before=None, text_encoder: str | None = None) -> list[dict]:
    """Fit and save each head for each moment (holding the store's writer lock); with ``before``, only on
    the videos whose outcome was known before then (to replay what a model deployed then would say);
    ``text_encoder``: whose title vectors the heads read (default ``default_tables``')."""
    with writer_lock(store, "train"):
        return _train_heads(store, tuple(heads or list_heads()), moments, spec or LabelSpec(), seed, before,
                            text_encoder)


def _train_heads(store: Store, heads, moments, spec: LabelSpec, seed: int, before=None,
                 text_encoder: str | None = None) -> list[dict]:
    from miles.heads.explain import shap_patterns

    out = []
    now = datetime.now(timezone.utc)
    for moment in moments:
        fs = build_features(store, moment, spec, text_encoder)
        if before is not None:
            fs = fs.known_before(before)
        y = fs.frame["viral"].to_numpy(dtype=int)
        v = fs.frame["velocity"].to_numpy()
        if len(np.unique(y)) < 2:
            raise MilesError(f"all {len(y)} training rows have the same viral label: use more videos or another "
                             "--viral-fraction")
        groups = creator_groups(fs.frame)
        openings = learn_openings(fs.texts, y)
        for head in heads:
            if head_kind(head).needs_creators and fs.frame["creator_id"].isna().all():
                log.warning("no video has a creator id: the %s head is not trained", head)
                continue
            X, features, params = head_inputs(fs, head, fs.blocks(), seed)
            fitted = fit_head(head, X, y, v, params, groups=groups, resamples=RESAMPLES, seed=seed)
            for note in fitted.notes:
                log.warning("%s %s: %s", head, moment, note)
            meta = {"head": head, "label_spec": asdict(spec), "thresholds": _thresholds(fs.frame),
                    "moment": moment, "features": features, "scalar_names": fs.scalar_names, "blocks": fs.blocks(),
                    "encoders": fs.encoders, "store_versions": fs.store_versions, "n_train": len(fs),
                    "trained_at": now.isoformat()}
            meta["openings"] = openings
            if head_kind(head).explains:  # the model's global SHAP patterns, for recommend
                meta["shap_patterns"] = shap_patterns(fitted.viral, fitted.inputs(X), fs.scalar_names, seed=seed)
            folder = save_deployed(store, head, moment, fitted, meta)
            _, p, vel = fitted.predict(X)
            run_id = uuid.uuid4().hex[:16]
            store.insert_new("predictions", [
                {"run_id": run_id, "video_id": vid, "viral": int(yy), "p_viral": float(pp), "velocity": float(vv),
                 "velocity_pred": float(qq)}
                for vid, yy, pp, vv, qq in zip(fs.frame["video_id"], y, p, v, vel)])
            store.upsert("runs", [{"run_id": run_id, "created_at": now, "kind": "train", "head": head,
                                   "moment": moment, "split": "all", "features": features, "n_train": len(fs),
                                   "n_test": 0, "metrics": json.dumps({}),
                                   "config": json.dumps(meta, default=str), "artifact": str(folder)}])
            out.append({"head": head, "moment": moment, "features": features, "rows": len(fs),
                        "calibrated_on": fitted.calibration.n, "run_id": run_id, "artifact": str(folder),
                        "notes": fitted.notes})
            log.info("trained %s %s on %d rows (calibrated on %d) → %s", head, moment, len(fs),
                     fitted.calibration.n, folder)
    return out
