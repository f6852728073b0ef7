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

``manifest.json`` lists the sha256 and size of every other file, written last at train and checked before
anything is loaded: a file changed, added, removed or replaced by a link since training is a refusal that
says to train again. Every file is read as a regular file inside the store with a size cap
(``miles.store.files``), and LightGBM's model text is checked before LightGBM parses it
(``miles.heads.lgb_check``): a head folder is data, and data never crashes or hangs the process.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from miles.errors import MilesError
from miles.heads.calibration import Calibration
from miles.heads.fit import FittedHead
from miles.heads.persist import load_head, save_head
from miles.heads.registry import DEFAULT_HEAD, list_heads
from miles.store import Store
from miles.store.artifacts import current, publish
from miles.store.files import MiB, inside, read_inside, sha256

MANIFEST = "manifest.json"
META_CAP = 64 * MiB


def head_dir(store: Store, head: str, moment: str = "pre_upload") -> Path:
    """The local folder of the deployed head (fetched into the local cache from a store on object
    storage); it does not exist when no head was trained."""
    return current(store, f"heads/{head}", moment)


def _root(store: Store) -> Path:
    """Where a head's files must lie: the store, or for a store on object storage its local cache."""
    return store.location.cache_dir if store.remote else store.path


def read_meta(store: Store, head: str, moment: str = "pre_upload") -> dict | None:
    """The head's ``head.json``; None when no such head was trained."""
    marker = head_dir(store, head, moment) / "head.json"
    if not os.path.lexists(marker):
        return None
    try:
        return json.loads(read_inside(_root(store), marker, cap=META_CAP))
    except ValueError:
        raise MilesError(f"{marker} is not a head's description: run `miles train --store {store}` again") from None


def _files(folder: Path) -> dict[str, Path]:
    """Every entry under ``folder`` but the manifest; a link, a FIFO or a device anywhere is refused."""
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(dirpath) / name
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise MilesError(f"{path} is not a regular file (a link, a FIFO or a device): the head was "
                                 "changed after training; run `miles train` again")
            out[path.relative_to(folder).as_posix()] = path
    out.pop(MANIFEST, None)
    return out


def write_manifest(folder: Path) -> None:
    files = {rel: {"sha256": sha256(p), "bytes": p.stat().st_size} for rel, p in sorted(_files(folder).items())}
    (folder / MANIFEST).write_text(json.dumps({"files": files}, indent=1))


def verify_manifest(store: Store, folder: Path) -> None:
    """Refuse a head whose files are not exactly those ``miles train`` wrote (sizes, then sha256)."""
    real = inside(_root(store), folder)
    again = f"run `miles train --store {store}` again"
    if not os.path.lexists(folder / MANIFEST):
        raise MilesError(f"the head in {folder} has no manifest (an older Miles, or a copy): {again}")
    try:
        listed = json.loads(read_inside(_root(store), folder / MANIFEST, cap=META_CAP))["files"]
    except (ValueError, KeyError, TypeError):
        raise MilesError(f"the head's manifest in {folder} is damaged: {again}") from None
    found = _files(real)
    if set(found) != set(listed):
        diff = sorted(set(found) ^ set(listed))
        raise MilesError(f"the head in {folder} has other files than at training ({', '.join(diff[:3])}): {again}")
    for rel, path in found.items():
        if path.stat().st_size != listed[rel].get("bytes") or sha256(path) != listed[rel].get("sha256"):
            raise MilesError(f"{rel} of the head in {folder} changed after training: {again}")


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
        write_manifest(folder)  # last: it covers every file above

    return publish(store, f"heads/{head}", moment, fill, {"trained_at": meta.get("trained_at")})


def load_deployed(store: Store, head: str, moment: str = "pre_upload") -> tuple[FittedHead, dict]:
    meta = require_meta(store, head, moment)
    folder = head_dir(store, head, moment)
    verify_manifest(store, folder)
    root = _root(store)
    clf, _ = load_head(folder / "viral", root)
    reg = load_head(folder / "velocity", root)[0] if (folder / "velocity" / "config.json").exists() else None
    resamples = [(load_head(folder / "resamples" / f"{i:02d}", root)[0], Calibration.from_dict(c))
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


def head_tables(meta: dict) -> dict[str, str]:
    """The embedding tables a deployed head was trained on: {"text": ..., "image": ...} (from its head.json)."""
    return {m: t for t in meta.get("encoders", {}) for m in ("text", "image") if t.startswith(f"emb_{m}_")}


def served_tables(store: Store, head: str = DEFAULT_HEAD) -> tuple[str | None, str | None]:
    """The text and image tables that similar-video search compares by default: those the served head was
    trained on (its pre_upload ``head.json``) where the store has them, else ``default_tables``'s, so a
    store that deployed the multilingual encoder also searches its vectors."""
    from miles.heads.dataset import default_tables

    text, image = default_tables(store)
    meta = read_meta(store, head)
    if meta:
        mine = head_tables(meta)
        text = mine["text"] if mine.get("text") and store.has(mine["text"]) else text
        image = mine["image"] if mine.get("image") and store.has(mine["image"]) else image
    return text, image
