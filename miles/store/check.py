"""``miles store check [--repair]``: find rows that share a key, and keep one of each.

    rows = check(store)                  # [{"table", "rows", "keys", "duplicates", "repaired"}]
    check(store, repair=True)

With the writer lock (``miles.store.lock``) no two writers run at once, and every write is a merge on the
table's key, so no new duplicates arise; a store written by an older Miles, or by two writers before the
lock existed, may hold some. Repair keeps the last-written row of each key (Lance's row order) and
rewrites the table as a new version (the old one stays in its history), under the writer lock.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from miles.store.core import Store
from miles.store.lock import writer_lock
from miles.store.schema import KEYS


def _keys(name: str) -> list[str] | None:
    return KEYS.get(name) or (["video_id"] if name.startswith("emb_") else None)


def _last_of_each_key(table: pa.Table, keys: list[str]) -> pa.Table:
    order = pa.array(range(table.num_rows), pa.int64())
    t = table.append_column("__row", order)
    last = t.group_by(keys, use_threads=False).aggregate([("__row", "max")])
    return table.take(pc.sort_indices(last["__row_max"]))


def check(store: Store, repair: bool = False) -> list[dict]:
    import lance

    out = []
    with writer_lock(store, "store check") if repair else _nothing():
        for name in store.table_names():
            keys = _keys(name)
            if keys is None:
                continue
            ds = store.dataset(name)
            key_rows = ds.to_table(columns=keys)
            distinct = key_rows.group_by(keys, use_threads=False).aggregate([]).num_rows
            row = {"table": name, "rows": key_rows.num_rows, "keys": distinct,
                   "duplicates": key_rows.num_rows - distinct, "repaired": False}
            if repair and row["duplicates"]:
                full = ds.to_table()
                lance.write_dataset(_last_of_each_key(full, keys), store.location.table_uri(name),
                                    schema=ds.schema, mode="overwrite",
                                    storage_options=store.location.storage_options)
                store.wrote(name)
                row["repaired"] = True
            out.append(row)
    return out


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
