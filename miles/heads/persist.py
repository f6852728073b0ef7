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
from pathlib import Path

import numpy as np

from miles.errors import MilesError
from miles.heads.registry import restoring_class
from miles.versions import library_versions as installed

log = logging.getLogger(__name__)

FORMAT = 3  # 3: heads carry their resamples and self-check (miles.heads.fit)
LIBRARIES = ("lightgbm", "scikit-learn", "torch", "numpy")


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


def load_head(folder: str | Path):
    """The head and its ``meta``; predictions equal those of the head that was saved."""
    from safetensors.numpy import load_file

    folder = Path(folder)
    if not (folder / "config.json").exists():
        raise MilesError(f"no saved head in {folder}: run `miles train` first")
    cfg = json.loads((folder / "config.json").read_text())
    if cfg.get("format") != FORMAT:
        raise MilesError(f"{folder} holds a head saved in format {cfg.get('format')}, this Miles reads format "
                         f"{FORMAT}: run `miles train` again")
    drift = {k: (v, cfg.get("versions", {}).get(k)) for k, v in library_versions().items()
             if cfg.get("versions", {}).get(k) not in (None, v)}
    if drift:
        log.warning("%s was saved with %s; this run has %s", folder,
                    ", ".join(f"{k} {old}" for k, (_, old) in drift.items()),
                    ", ".join(f"{k} {new}" for k, (new, _) in drift.items()))
    tensors = load_file(str(folder / "tensors.safetensors")) if (folder / "tensors.safetensors").exists() else {}
    state = dict(cfg.get("state", {}))
    state["files"] = {name: (folder / name).read_text() for name in cfg.get("files", [])}
    head = restoring_class(cfg["class"]).restore(cfg["params"], state, tensors)
    return head, cfg.get("meta", {})
