"""A deployed head: the folder ``miles train`` writes, and the one place that reads it.

    save_deployed(store, "lightgbm", "pre_upload", fitted, meta)   # a new folder, made current in one step
    fitted, meta = load_deployed(store, "lightgbm")                # the FittedHead and its head.json
    read_meta(store, "lightgbm")                                   # head.json alone (None: not trained)
    deployed(store)                                                # every trained head, for the catalog
    deployed_spec(store)                                           # the label spec the store's heads use

``<store>/heads/<head>/<moment>/`` holds ``viral/``, ``velocity/`` and ``resamples/NN/`` (each head class
saves its own state through ``miles.heads.persist``: never a pickle) and ``head.json``: the label spec and
what ``viral`` meant, the calibrations, the blocks the head reads after its self-check and what that check
changed, the feature list, encoder fingerprints and store versions. ``predict`` reads only this folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from miles.errors import MilesError
from miles.heads.calibration import Calibration
from miles.heads.fit import FittedHead
from miles.heads.persist import load_head, save_head
from miles.heads.registry import DEFAULT_HEAD, list_heads
from miles.store import Store
from miles.store.artifacts import current, publish


def head_dir(store: Store, head: str, moment: str = "pre_upload") -> Path:
    """The local folder of the deployed head (fetched into the local cache from a store on object
    storage); it does not exist when no head was trained."""
    return current(store, f"heads/{head}", moment)


def read_meta(store: Store, head: str, moment: str = "pre_upload") -> dict | None:
    """The head's ``head.json``; None when no such head was trained."""
    marker = head_dir(store, head, moment) / "head.json"
    return json.loads(marker.read_text()) if marker.exists() else None


def require_meta(store: Store, head: str, moment: str = "pre_upload") -> dict:
    """The head's ``head.json``, or an error that says what to run."""
    meta = read_meta(store, head, moment)
    if meta is None:
        raise MilesError(f"store {store} has no trained {head} head for {moment}: run "
                         f"`miles train --store {store} --heads {head} --moments {moment}` (after `miles embed`)")
    return meta


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
    meta = require_meta(store, head, moment)
    folder = head_dir(store, head, moment)
    clf, _ = load_head(folder / "viral")
    reg = load_head(folder / "velocity")[0] if (folder / "velocity" / "config.json").exists() else None
    resamples = [(load_head(folder / "resamples" / f"{i:02d}")[0], Calibration.from_dict(c))
                 for i, c in enumerate(meta.get("resamples", []))]
    fitted = FittedHead(head, clf, reg, Calibration.from_dict(meta["calibration"]), meta.get("n_fit", 0),
                        blocks=meta.get("block_sizes"), used=meta.get("used"),
                        velocity_constant=meta.get("velocity_constant"), resamples=resamples,
                        notes=list(meta.get("notes", [])))
    return fitted, meta


def deployed(store: Store, moment: str = "pre_upload") -> list[dict]:
    """Every trained head at ``moment``, the default head first: features, when and on how many rows it was
    trained, how many rows calibrated it, its label spec."""
    out = []
    for head in sorted(list_heads(), key=lambda h: h != DEFAULT_HEAD):
        meta = read_meta(store, head, moment)
        if meta is not None:
            out.append({"head": head, "moment": moment, "features": meta.get("features"),
                        "trained_at": meta.get("trained_at"), "n_train": meta.get("n_train"),
                        "calibrated_on": meta.get("calibration", {}).get("n"), "label_spec": meta.get("label_spec")})
    return out


def deployed_spec(store: Store, moment: str = "pre_upload"):
    """The label spec the store's deployed heads were trained with (None when no head is trained): what
    ``viral`` means wherever the store's videos are shown."""
    from miles.heads.labels import LabelSpec

    heads = deployed(store, moment)
    spec = heads[0]["label_spec"] if heads else None
    return LabelSpec(**spec) if spec else None
