"""The store: LanceDB tables with canonical schemas, idempotent upserts, versions and index files."""

from __future__ import annotations

from miles.store.core import DEFAULT_STORE, Store, UpsertResult, resolve_store_path
from miles.store.schema import KEYS, SCHEMAS, SNAPSHOTS, VIDEOS

__all__ = [
    "DEFAULT_STORE",
    "KEYS",
    "SCHEMAS",
    "SNAPSHOTS",
    "VIDEOS",
    "Store",
    "UpsertResult",
    "resolve_store_path",
]
