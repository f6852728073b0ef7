"""Folders of files kept beside the tables (a deployed head, a FAISS index), replaced whole.

    publish(store, "heads/lightgbm", "pre_upload", fill=lambda folder: ..., meta={...})
    folder = current(store, "heads/lightgbm", "pre_upload")     # a local folder to read

A reader sees the old folder or the new one, never half of each:
- in a local store, ``<area>/<name>`` is a symlink to ``<name>@<stamp>``, swapped with one rename;
- on object storage, ``<area>/<name>.current`` names the folder (with ``meta``), swapped with one PUT;
  a folder is never changed once written, so it is fetched once into the local cache
  (``Location.cache_dir``) under its own name and read from there.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from miles.store.files import make_dir
from miles.store.location import recent

_POINTERS = recent()


def publish(store, area: str, name: str, fill: Callable[[Path], None], meta: dict | None = None) -> str:
    """Write a new version of ``<area>/<name>`` with ``fill(folder)`` and make it the current one;
    returns where it lives."""
    stamp = f"{name}@{uuid.uuid4().hex[:12]}"
    if not store.remote:
        return str(_swap_local(store.path, store.path / area / name, stamp, fill))
    with tempfile.TemporaryDirectory(prefix="miles-publish-") as tmp:
        fill(Path(tmp))
        store.location.upload(Path(tmp), f"{area}/{stamp}")
    _POINTERS.forget(f"{store.uri}/{area}/{name}")
    old = pointer(store, area, name)
    store.location.write_bytes(f"{area}/{name}.current", json.dumps({**(meta or {}), "folder": stamp}).encode())
    _POINTERS.forget(f"{store.uri}/{area}/{name}")
    if old is not None and old.get("folder") not in (None, stamp):
        store.location.remove(f"{area}/{old['folder']}")
    return f"{store.uri}/{area}/{stamp}"


def pointer(store, area: str, name: str) -> dict | None:
    """What ``<area>/<name>.current`` says on object storage (None when nothing was published). One GET,
    kept for a second as a table's version is (``location.recent``), and forgotten when this process publishes."""
    def read() -> dict | None:
        try:
            return json.loads(store.location.read_bytes(f"{area}/{name}.current"))
        except (OSError, ValueError):  # absent (pyarrow's FileNotFoundError is an OSError) or unreadable
            return None

    return _POINTERS.get(f"{store.uri}/{area}/{name}", read)


def current(store, area: str, name: str) -> Path:
    """The local folder holding the current version of ``<area>/<name>``; it does not exist when none
    was published."""
    if not store.remote:
        return store.path / area / name
    cache = store.location.cache_dir / area
    found = pointer(store, area, name)
    if found is None or not found.get("folder"):
        return cache / name
    return store.location.download(f"{area}/{found['folder']}", cache / found["folder"])


def _swap_local(root: Path, folder: Path, stamp: str, fill: Callable[[Path], None]) -> Path:
    make_dir(root, folder.parent)  # every level a real folder of the store: nothing written where a link points
    new = folder.parent / stamp
    new.mkdir()
    fill(new)
    old = None
    if folder.is_symlink():  # the version it names is removed after the swap, only if it is a sibling
        target = Path(os.readlink(folder))
        old = folder.parent / target if len(target.parts) == 1 and not target.is_absolute() else None
    elif folder.exists():  # a folder from an older Miles: replace it
        shutil.rmtree(folder)
    link = folder.parent / f".{stamp}.link"
    os.symlink(stamp, link)
    os.replace(link, folder)
    if old is not None and old.is_dir() and not old.is_symlink() and old.name != stamp:
        shutil.rmtree(old, ignore_errors=True)
    return folder
