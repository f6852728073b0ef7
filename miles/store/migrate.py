"""Bring a stored table up to its canonical schema: the nullable columns added since it was written.

    added = add_missing_columns(store, "videos")   # ["first_seen_at"] on a store from before it was kept

``Store.upsert`` casts rows to the canonical schema (``miles.store.schema``), so a table written by an
older Miles that lacks a newer column could not take them; the store adds such columns before it writes.
Adding a nullable column is a metadata-only Lance commit (no data file is rewritten) and the old rows read
as null there, which the column's readers give a meaning (a null ``videos.first_seen_at`` is the earliest
time). A missing column that may not be null has no value to give the old rows: an error names it.
"""

from __future__ import annotations

import logging

import pyarrow as pa

from miles.errors import MilesError
from miles.store.schema import SCHEMAS

log = logging.getLogger(__name__)


def missing_columns(stored: pa.Schema, canonical: pa.Schema, name: str = "table") -> list[pa.Field]:
    """The canonical fields ``stored`` lacks, all nullable (else a ``MilesError`` naming the others)."""
    missing = [f for f in canonical if f.name not in stored.names]
    required = [f.name for f in missing if not f.nullable]
    if required:
        raise MilesError(f"table {name!r} lacks the required columns {required}, which an older store cannot be "
                         "given by adding nulls: ingest its sources again into a new store")
    return missing


def add_missing_columns(store, name: str) -> list[str]:
    """Add the nullable canonical columns the ``Store``'s table ``name`` lacks (their rows read as null);
    the names added. A table that is not there, or not canonical, is left alone."""
    canonical = SCHEMAS.get(name)
    if canonical is None or not store.has(name):
        return []
    fields = missing_columns(store.dataset(name).schema, canonical, name)
    if fields:
        store.table(name).add_columns(fields)
        store.wrote(name)
        log.info("store %s: added the column(s) %s to %s (null in its %d stored rows)", store,
                 [f.name for f in fields], name, store.count(name))
    return [f.name for f in fields]
