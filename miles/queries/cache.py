"""What queries keep between calls in one process (``predict`` answers in milliseconds once loaded).

Each cache is a ``miles.bounded.Bounded`` keyed by the store (and table, or head): an entry holds the
Lance version (or head folder) it was read from and is rebuilt when that moves on, so a write to the store
is seen at once and a store never holds two versions of the same thing. A process that opens many stores
keeps the last few of each (``STORES``), the least recently used dropped first. Reads never write: a
missing or stale FAISS index is replaced by an exact in-memory one (and a hint to run ``miles index``),
not rebuilt on disk.

The caches come as one set (``Caches``). Calls use the process's set unless a caller runs them inside
``using(caches)``: the server does, so its models (the deployed head, the encoders, the view, vectors
and indexes) live in its app's lifespan state and are released when the app shuts down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from miles.bounded import Bounded
from miles.heads.view import StoreView
from miles.store import Store

log = logging.getLogger(__name__)

STORES = 4  # stores whose views a process keeps at once (a view holds every video and snapshot)


class Caches:
    """One set of query caches, each bounded by the number of stores it serves."""

    def __init__(self, stores: int = STORES):
        self.views = Bounded(stores)  # store -> StoreView
        self.vectors = Bounded(2 * stores)  # (store, table) -> (version, ids, vectors, their positions)
        self.indexes = Bounded(2 * stores)  # (store, table) -> (version, VectorIndex)
        self.heads = Bounded(2 * stores)  # (store, head, moment) -> (folder, mtime, (FittedHead, meta))
        self.encoders = Bounded(2 * stores)  # table fingerprint -> encoder (miles.queries.encode)

    def clear(self) -> None:
        for c in (self.views, self.vectors, self.indexes, self.heads, self.encoders):
            c.clear()


PROCESS = Caches()
_CURRENT: ContextVar[Caches] = ContextVar("miles_query_caches", default=PROCESS)


def current() -> Caches:
    """The caches the calls of this context use: ``PROCESS`` unless inside ``using``."""
    return _CURRENT.get()


@contextmanager
def using(caches: Caches) -> Iterator[Caches]:
    """Run the queries inside with their own caches (a server's, say) instead of the process's."""
    token = _CURRENT.set(caches)
    try:
        yield caches
    finally:
        _CURRENT.reset(token)


def _versions(store: Store, *tables: str) -> dict:
    return {t: store.version(t) for t in tables if store.has(t)}


def store_view(store: Store) -> StoreView:
    """The store's videos and snapshots at their current versions (outcomes cached inside per spec)."""
    now = _versions(store, "videos", "snapshots")
    return current().views.get(store.location.key, lambda: StoreView.read(store), valid=lambda v: v.versions == now)


def _table(store: Store, table: str):
    import pandas as pd

    from miles.store.index import read_vectors

    version = store.version(table)

    def read():
        ids, vecs = read_vectors(store, table, version)
        return version, ids, vecs, pd.Index(ids)

    return current().vectors.get((store.location.key, table), read, valid=lambda hit: hit[0] == version)


def table_vectors(store: Store, table: str):
    """(ids, (n, d) vectors) of an embedding table at its current version."""
    return _table(store, table)[1:3]


def table_positions(store: Store, table: str):
    """The row of each video id in ``table_vectors`` (a pandas Index: ``get_indexer`` maps many at once)."""
    return _table(store, table)[3]


def vector_index(store: Store, table: str):
    version = store.version(table)

    def load():
        import faiss

        from miles.store.index import VectorIndex, is_stale, load_index

        if not is_stale(store, table):
            return version, load_index(store, table, rebuild_stale=False)
        log.warning("the FAISS index of %s is missing or older than the table: searching exactly in memory; "
                    "run `miles index --store %s` to save one", table, store)
        ids, vecs = table_vectors(store, table)
        index = faiss.IndexFlatIP(vecs.shape[1])
        index.add(vecs)
        return version, VectorIndex(table, index, ids, {"kind": "flat", "in_memory": True})

    return current().indexes.get((store.location.key, table), load, valid=lambda hit: hit[0] == version)[1]


def deployed_head(store: Store, head: str, moment: str = "pre_upload"):
    """(FittedHead, meta) of the trained head, reloaded when ``miles train`` swaps in a new one."""
    from miles.heads.deployed import head_dir, load_deployed

    folder = head_dir(store, head, moment)
    marker = folder / "head.json"
    if not marker.exists():
        return load_deployed(store, head, moment)  # raises the error that says what to run
    stamp = (str(folder.resolve()), marker.stat().st_mtime_ns)
    return current().heads.get((store.location.key, head, moment), lambda: (stamp, load_deployed(store, head, moment)),
                      valid=lambda hit: hit[0] == stamp)[1]
