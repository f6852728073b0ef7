"""Read-only DuckDB SQL over the store.

    >>> sql("miles-store", "SELECT platform, count(*) FROM videos GROUP BY 1").to_pylist()

Every store table is registered under its own name (a Lance dataset scanned in place, vectors as
``FLOAT[d]``). Only ``SELECT`` statements run; file access is switched off and locked before the user's
query runs, so a query can read the store and nothing else.
"""

from __future__ import annotations

import os
from typing import Literal

import pyarrow as pa

from miles.store import Store

Format = Literal["table", "csv", "json"]


class ReadOnlyError(ValueError):
    """The query tried to write, or to reach outside the store."""


def connect(store: Store | str | os.PathLike[str] | None = None):
    """A DuckDB connection with every store table registered, external access disabled and locked."""
    import duckdb

    st = store if isinstance(store, Store) else Store.open(store, must_exist=True)
    con = duckdb.connect(config={"threads": max(1, os.cpu_count() or 1)})
    from miles.store import SCHEMAS

    present = st.table_names()
    for name in present:
        con.register(name, st.dataset(name))
    for name, schema in SCHEMAS.items():  # canonical tables not written yet read as empty
        if name not in present:
            con.register(name, schema.empty_table())
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _check_read_only(con, query: str) -> None:
    import duckdb

    try:
        statements = con.extract_statements(query)
    except duckdb.Error as err:
        raise ValueError(f"SQL does not parse: {err}") from err
    if not statements:
        raise ValueError("empty SQL query")
    allowed = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
    for st in statements:
        if st.type not in allowed:
            kind = st.type.name
            raise ReadOnlyError(f"miles sql is read-only: {kind} statements are refused (only SELECT runs)")


def sql(store: Store | str | os.PathLike[str] | None, query: str) -> pa.Table:
    """Run one read-only query and return the result as a ``pyarrow.Table``."""
    import duckdb

    con = connect(store)
    try:
        _check_read_only(con, query)
        try:
            return con.sql(query).to_arrow_table()
        except duckdb.PermissionException as err:
            raise ReadOnlyError(f"miles sql reads the store only; files outside it are refused ({err})") from err
    finally:
        con.close()
