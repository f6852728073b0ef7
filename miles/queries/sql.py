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
    _convenience_views(con, [n for n in present if n.startswith("emb_")])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


LATEST = """
CREATE VIEW videos_latest AS
WITH last AS (
    SELECT * FROM snapshots QUALIFY row_number() OVER (PARTITION BY video_id ORDER BY observed_at DESC) = 1
), joined AS (
    SELECT v.* EXCLUDE (thumbnail), v.thumbnail IS NOT NULL AS has_thumbnail,
           l.observed_at, l.views, l.likes, l.comments, l.shares, l.creator_followers,
           date_diff('second', v.published_at, l.observed_at) / 3600.0 AS age_hours
    FROM videos v LEFT JOIN last l USING (video_id)
), rated AS (
    SELECT *, log10((views + 1) / greatest(age_hours, 1.0)) AS velocity FROM joined
)
SELECT *,
       velocity >= quantile_cont(velocity, 0.8) OVER (PARTITION BY platform, date_trunc('week', published_at))
           AS viral,
       velocity - median(velocity) OVER (PARTITION BY creator_id) AS relative_to_creator
FROM rated
"""


def _convenience_views(con, embedding_tables: list[str]) -> None:
    """``videos_latest``: each video with its latest snapshot, velocity (log10 views per hour at that
    observation), ``viral`` (top 20% within platform x upload week, over all rows: descriptive, not a
    training label) and velocity relative to the creator's median. ``<emb table>_videos``: each
    embedding table joined to its video."""
    con.execute(LATEST)
    for name in embedding_tables:
        con.execute(f'CREATE VIEW "{name}_videos" AS SELECT e.video_id, e.vector, v.* EXCLUDE (video_id, thumbnail, '
                    f'content_hash), e.content_hash = v.content_hash AS current FROM "{name}" e JOIN videos v USING (video_id)')


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
