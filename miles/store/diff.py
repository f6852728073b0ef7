"""Which rows of a write are new, changed or already stored: the comparison behind ``Store.upsert``.

    new_mask, changed_mask, stored = diff(rows, existing, ["video_id"], VIDEOS)

A row is changed when any compared column differs from the stored row with its key; the thumbnail bytes
are not compared (the content hash covers them), nor is a reject's ``ingested_at``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def compared(schema: pa.Schema, keys: list[str]) -> list[str]:
    """Columns whose change makes an update. The thumbnail is covered by content_hash: compare the hash,
    not the bytes."""
    return [n for n in schema.names if n not in keys and n not in ("thumbnail", "ingested_at")]


def row_key(row: dict[str, Any], keys: list[str]) -> tuple:
    return tuple(row[k] for k in keys)


def diff(table: pa.Table, existing: pa.Table | None, keys: list[str], schema: pa.Schema):
    """Per row of ``table``: is its key new, and if not, do any of its values differ from the stored row."""
    rows = table.to_pylist()
    if existing is None or existing.num_rows == 0:
        return [True] * len(rows), [False] * len(rows), {}
    compare = compared(schema, keys)
    stored = {row_key(r, keys): r for r in existing.select(keys + compare).to_pylist()}
    new_mask, changed_mask = [], []
    for r in rows:
        old = stored.get(row_key(r, keys))
        new_mask.append(old is None)
        changed_mask.append(old is not None and any(r[c] != old[c] for c in compare))
    return new_mask, changed_mask, stored
