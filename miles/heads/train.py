"""``miles train``: fit the deployable heads on every row with a final outcome and save them in the store.

    rows = train_heads(store, heads=("lightgbm",), moments=("pre_upload",), spec=LabelSpec())
    fitted, meta = load_deployed(store, "lightgbm", "pre_upload")

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
from pathlib import Path

import numpy as np

from miles.errors import MilesError
from miles.heads.calibration import Calibration
from miles.heads.dataset import FeatureSet, build_features
from miles.heads.fit import RESAMPLES, FittedHead, fit_head
from miles.heads.labels import LabelSpec
from miles.heads.openings import learn_openings
from miles.heads.persist import load_head, save_head
from miles.store import Store
from miles.store.artifacts import current, publish
from miles.store.lock import writer_lock

log = logging.getLogger(__name__)


def head_dir(store: Store, head: str, moment: str) -> Path:
    """The local folder of the deployed head (fetched into the local cache from a store on object
    storage); it does not exist when no head was trained."""
    return current(store, f"heads/{head}", moment)


def creator_groups(frame) -> np.ndarray:
    """Each row's creator (its own video id where it has none): the unit that resampling draws whole."""
    return frame["creator_id"].astype(object).where(frame["creator_id"].notna(), frame["video_id"]).to_numpy()


def _thresholds(frame) -> dict:
    """What ``viral`` meant on the training rows: each platform's median weekly cut, in velocity."""
    by = frame.groupby(frame["platform"].fillna("unknown"))["viral_threshold"].median()
    return {"platform": {str(k): float(t) for k, t in by.items()}, "global": float(frame["viral_threshold"].median())}


def head_inputs(fs: FeatureSet, head: str, blocks, seed: int = 0, rows=slice(None)) -> tuple[object, str, dict]:
    """(X, features label, params) of one head on some blocks of a feature set: the TF-IDF baseline reads
    the text, the creator prior the metadata block, the others every block given."""
    if head == "baseline":
        return fs.texts[rows], "title", {}
    if head == "creator_prior":
        return fs.X(["metadata"])[rows], "creator_prior", {"prior_column": fs.scalar_names.index("creator_prior")}
    sizes = {"metadata": len(fs.scalar_names)}
    sizes.update({b: getattr(fs, b).shape[1] for b in blocks if b != "metadata"})
    return fs.X(blocks)[rows], "+".join(blocks), {"block_sizes": {b: sizes[b] for b in blocks}, "random_state": seed}


def save_deployed(store: Store, head: str, moment: str, fitted: FittedHead, meta: dict) -> str:
    """Write the head as a new folder and make it the deployed one in one atomic step
    (``miles.store.artifacts``), so a reader sees the old head or the new one, never half of each."""
    def fill(folder: Path) -> None:
        save_head(fitted.viral, folder / "viral", meta)
        if fitted.velocity is not None:
            save_head(fitted.velocity, folder / "velocity", meta)
        for i, (model, _) in enumerate(fitted.resamples):
            save_head(model, folder / "resamples" / f"{i:02d}", meta)
        (folder / "head.json").write_text(json.dumps({
            **meta, "calibration": fitted.calibration.to_dict(), "n_fit": fitted.n_fit, "block_sizes": fitted.blocks,
            "used": fitted.used, "velocity_constant": fitted.velocity_constant, "notes": fitted.notes,

            "resamples": [cal.to_dict() for _, cal in fitted.resamples]}, indent=1, default=str))

    return publish(store, f"heads/{head}", moment, fill, {"trained_at": meta.get("trained_at")})


def load_deployed(store: Store, head: str, moment: str = "pre_upload") -> tuple[FittedHead, dict]:
    folder = head_dir(store, head, moment)
    if not (folder / "head.json").exists():
        raise MilesError(f"store {store} has no trained {head} head for {moment}: run "
                         f"`miles train --store {store} --heads {head} --moments {moment}` (after `miles embed`)")
    meta = json.loads((folder / "head.json").read_text())
    clf, _ = load_head(folder / "viral")
    reg = load_head(folder / "velocity")[0] if (folder / "velocity" / "config.json").exists() else None
    resamples = [(load_head(folder / "resamples" / f"{i:02d}")[0], Calibration.from_dict(c))
                 for i, c in enumerate(meta.get("resamples", []))]
    fitted = FittedHead(head, clf, reg, Calibration.from_dict(meta["calibration"]), meta.get("n_fit", 0),
                        blocks=meta.get("block_sizes"), used=meta.get("used"),
                        velocity_constant=meta.get("velocity_constant"), resamples=resamples,
                        notes=list(meta.get("notes", [])))
    return fitted, meta


def train_heads(store: Store, heads=("baseline", "creator_prior", "lightgbm", "mlp"), moments=("pre_upload",),
                spec: LabelSpec | None = None, seed: int = 0) -> list[dict]:
    """Fit and save each head for each moment (holding the store's writer lock)."""
    with writer_lock(store, "train"):
        return _train_heads(store, heads, moments, spec or LabelSpec(), seed)


def _train_heads(store: Store, heads, moments, spec: LabelSpec, seed: int) -> list[dict]:
    from miles.heads.explain import shap_patterns

    out = []
    now = datetime.now(timezone.utc)
    for moment in moments:
        fs = build_features(store, moment, spec)
        y = fs.frame["viral"].to_numpy(dtype=int)
        v = fs.frame["velocity"].to_numpy()
        if len(np.unique(y)) < 2:
            raise MilesError(f"all {len(y)} training rows have the same viral label: use more videos or another "
                             "--viral-fraction")
        groups = creator_groups(fs.frame)
        openings = learn_openings(fs.texts, y)
        for head in heads:
            if head == "creator_prior" and fs.frame["creator_id"].isna().all():
                log.warning("no video has a creator id: the creator_prior head is not trained")
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
            if head == "lightgbm":  # the model's global SHAP patterns, for recommend
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
