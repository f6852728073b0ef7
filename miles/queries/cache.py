"""What queries keep between calls in one process (``predict`` answers in milliseconds once loaded).

Every entry is keyed on the store's path and the Lance versions (or artifact file) it was read from, so
a write to the store is seen at once, and every cache is bounded. Reads never write: a missing or stale
FAISS index is replaced by an exact in-memory one (and a hint to run ``miles index``), not rebuilt on disk.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from miles.heads.view import StoreView
from miles.store import Store

log = logging.getLogger(__name__)


def _versions(store: Store, *tables: str) -> tuple:
    return tuple(store.version(t) if store.has(t) else 0 for t in tables)


@lru_cache(maxsize=4)
def _view(path: str, versions: tuple) -> StoreView:
    return StoreView.read(Store(path))


def store_view(store: Store) -> StoreView:
    """The store's videos and snapshots at their current versions (outcomes cached inside per spec)."""
    return _view(store.location.key, _versions(store, "videos", "snapshots"))


@lru_cache(maxsize=8)
def _vectors(path: str, table: str, version: int):
    from miles.store.index import read_vectors

    return read_vectors(Store(path), table, version)


def table_vectors(store: Store, table: str):
    """(ids, (n, d) vectors) of an embedding table at its current version."""
    return _vectors(store.location.key, table, store.version(table))


@lru_cache(maxsize=8)
def _positions(path: str, table: str, version: int):
    import pandas as pd

    return pd.Index(_vectors(path, table, version)[0])


def table_positions(store: Store, table: str):
    """The row of each video id in ``table_vectors`` (a pandas Index: ``get_indexer`` maps many at once)."""
    return _positions(store.location.key, table, store.version(table))


@lru_cache(maxsize=8)
def _index(path: str, table: str, version: int):
    import faiss

    from miles.store.index import VectorIndex, is_stale, load_index

    store = Store(path)
    if not is_stale(store, table):
        return load_index(store, table, rebuild_stale=False)
    log.warning("the FAISS index of %s is missing or older than the table: searching exactly in memory; "
                "run `miles index --store %s` to save one", table, path)
    ids, vecs = _vectors(path, table, version)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    return VectorIndex(table, index, ids, {"kind": "flat", "in_memory": True})


def vector_index(store: Store, table: str):
    return _index(store.location.key, table, store.version(table))


@lru_cache(maxsize=8)
def _deployed(folder: str, mtime_ns: int, path: str, head: str, moment: str):
    from miles.heads.deployed import load_deployed

    return load_deployed(Store(path), head, moment)


def deployed_head(store: Store, head: str, moment: str = "pre_upload"):
    """(FittedHead, meta) of the trained head, reloaded when ``miles train`` swaps in a new one."""
    from miles.heads.deployed import head_dir, load_deployed

    folder = head_dir(store, head, moment)
    marker = folder / "head.json"
    if not marker.exists():
        return load_deployed(store, head, moment)  # raises the error that says what to run
    return _deployed(str(folder.resolve()), marker.stat().st_mtime_ns, store.location.key, head, moment)

