"""Save and load heads without pickling code: tensors as safetensors, everything else as JSON or text.

    save_head(head, "store/heads/lightgbm/pre_upload/viral", meta={...})
    head, meta = load_head("store/heads/lightgbm/pre_upload/viral")

Each head class saves and restores its own state (``state()`` / ``restore()``, see ``miles.heads.base``);
this module only writes the files. ``config.json`` holds the format version and the library versions
that wrote it: an unknown format is an error, drifted library versions a warning. ``meta`` is what the
artifact says about itself: label spec, moment, feature list, encoder fingerprints, store versions.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from miles.errors import MilesError
from miles.heads.registry import restoring_class
from miles.store.files import GiB, MiB, check_file, plain_name, read_inside
from miles.versions import library_versions as installed

log = logging.getLogger(__name__)

FORMAT = 3  # 3: heads carry their resamples and self-check (miles.heads.fit)
LIBRARIES = ("lightgbm", "scikit-learn", "torch", "numpy")
CONFIG_CAP = 64 * MiB  # a head's config.json (its PCA state is in the tensors)
FILE_CAP = 1 * GiB  # a model text or the tensors of one head


def library_versions() -> dict[str, str]:
    return installed(*LIBRARIES)


def save_head(head, folder: str | Path, meta: dict | None = None) -> Path:
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state, tensors = head.state()
    files = state.pop("files", {})
    for name, text in files.items():
        (folder / name).write_text(text)
    cfg = {"format": FORMAT, "class": type(head).__name__, "params": head.get_params(), "state": state,
           "files": sorted(files), "versions": library_versions(), "meta": meta or {}}
    if tensors:
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(folder / "tensors.safetensors"))
    (folder / "config.json").write_text(json.dumps(cfg, indent=2, default=str))
    return folder


def load_head(folder: str | Path, root: str | Path | None = None):
    """The head and its ``meta``; predictions equal those of the head that was saved. Every file is read
    as a regular file inside ``root`` (the store; the folder itself when not given), with a size cap, and
    the files ``config.json`` names must be plain names in the folder."""
    from safetensors.numpy import load_file

    folder = Path(folder)
    root = Path(root) if root is not None else folder
    if not os.path.lexists(folder / "config.json"):
        raise MilesError(f"no saved head in {folder}: run `miles train` first")
    try:
        cfg = json.loads(read_inside(root, folder / "config.json", cap=CONFIG_CAP))
    except ValueError:
        raise MilesError(f"{folder / 'config.json'} is not a head's configuration: run `miles train` again") from None
    if cfg.get("format") != FORMAT:
        raise MilesError(f"{folder} holds a head saved in format {cfg.get('format')}, this Miles reads format "
                         f"{FORMAT}: run `miles train` again")
    drift = {k: (v, cfg.get("versions", {}).get(k)) for k, v in library_versions().items()
             if cfg.get("versions", {}).get(k) not in (None, v)}
    if drift:
        log.warning("%s was saved with %s; this run has %s", folder,
                    ", ".join(f"{k} {old}" for k, (_, old) in drift.items()),
                    ", ".join(f"{k} {new}" for k, (new, _) in drift.items()))
    tensors = {}
    if os.path.lexists(folder / "tensors.safetensors"):
        check_file(root, folder / "tensors.safetensors", cap=FILE_CAP)
        tensors = load_file(str(folder / "tensors.safetensors"))
    state = dict(cfg.get("state", {}))
    state["files"] = {name: read_inside(root, folder / plain_name(name), cap=FILE_CAP).decode("utf-8", "replace")
                      for name in cfg.get("files", [])}
    head = restoring_class(cfg["class"]).restore(cfg["params"], state, tensors)
    return head, cfg.get("meta", {})
