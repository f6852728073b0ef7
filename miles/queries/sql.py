"""Read-only DuckDB SQL over the store, bounded in rows, time and memory.

    >>> sql("miles-store", "SELECT platform, count(*) FROM videos GROUP BY 1").to_pylist()
    >>> result = run_sql(store, query, limit=100, timeout=60)      # result.table, result.more

Every store table is registered under its own name (a Lance dataset scanned in place, vectors as
``FLOAT[d]``), with two views: ``labels`` (each video's velocity, ``viral``, ``relative_to_creator`` and
``breakout`` as ``miles.heads.labels`` computes them — the same flags as training, similar and the
dashboard) and ``videos_latest`` (each video, its latest snapshot and its labels); a query that names
neither does not pay for computing them. Only ``SELECT`` statements run (``WITH`` included), and
``EXPLAIN`` / ``EXPLAIN ANALYZE`` of one. The connection is opened with file access off and its
configuration locked, before anything from the store is touched; a table whose folder name is not a
plain identifier is left out (a shared store cannot smuggle SQL in through a name). The row limit runs
inside DuckDB, and every DuckDB error is one line.

``run_sql`` runs the query in a child process (``miles.queries.watchdog``) with DuckDB's memory limit
(``DEFAULT_MEMORY_LIMIT``, 1GB, unless given) and at most four threads; the watchdog kills it once it has
grown by 1.5x that limit (so no query grows a process by twice it: DuckDB's limit does not cover the
strings a function builds) or has run past the timeout, and says which.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

import pyarrow as pa

from miles.errors import MilesError
from miles.store import Store

log = logging.getLogger(__name__)

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_LIMIT = "1GB"  # DuckDB's own default is 80% of the machine's memory
THREADS = min(4, os.cpu_count() or 1)  # DuckDB's memory grows with its threads


class ReadOnlyError(MilesError):
    """The query tried to write, or to reach outside the store."""


def safe_tables(names: list[str]) -> list[str]:
    """The table names that are plain lower-case identifiers; others are left out with a warning."""
    ok = [n for n in names if IDENTIFIER.match(n)]
    for bad in sorted(set(names) - set(ok)):
        log.warning("table folder %r is not a plain name (a-z, 0-9, _): left out of SQL", bad)
    return ok


def connect(store: Store | str | os.PathLike[str] | None = None, memory_limit: str | None = None,
            labels: bool = True):
    """A DuckDB connection with every store table registered; file access off from the moment it opens and
    the configuration locked before anything from the store is touched. ``labels``: also register the
    labels and ``videos_latest`` (which reads every video and snapshot to compute them)."""
    import duckdb

    from miles.store import SCHEMAS

    st = store if isinstance(store, Store) else Store.open(store, must_exist=True)
    config = {"threads": THREADS, "enable_external_access": False}
    if memory_limit:
        config["memory_limit"] = memory_limit
    try:
        con = duckdb.connect(config=config)
    except duckdb.Error as err:
        raise MilesError(f"cannot open SQL with these settings: {_first_line(err)}") from err
    con.execute("SET enable_progress_bar = false")  # a connection's own setting: not settable at connect
    con.execute("SET lock_configuration = true")
    present = safe_tables(st.table_names())
    for name in present:
        con.register(name, st.dataset(name))
    for name, schema in SCHEMAS.items():  # canonical tables not written yet read as empty
        if name not in present:
            con.register(name, schema.empty_table())
    if labels:
        con.register("labels", label_table(st))
        con.execute(LATEST)
    _embedding_views(con, [n for n in present if n.startswith("emb_")])
    return con


LABEL_COLUMNS = ["video_id", "velocity", "final", "viral", "viral_threshold", "cohort", "relative_to_creator",
                 "breakout", "creator_prior", "age_hours", "outcome_known_at"]


def label_table(store: Store) -> pa.Table:
    """The labels of every video with an outcome, from ``miles.heads.labels`` (the one definition), under the
    label spec of the store's deployed head (the default spec when none is trained)."""
    from miles.heads.deployed import deployed_spec
    from miles.heads.labels import LabelSpec
    from miles.queries.cache import store_view

    spec = deployed_spec(store) or LabelSpec()
    if not store.has("videos"):
        out = None
    else:
        out = store_view(store).outcomes(spec)
    import pandas as pd

    if out is None or out.empty:
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in LABEL_COLUMNS})
        out["video_id"], out["cohort"] = out["video_id"].astype(object), out["cohort"].astype(object)
        out["final"] = out["final"].astype(bool)
        out["outcome_known_at"] = pd.Series(dtype="datetime64[us, UTC]")
    frame = out[LABEL_COLUMNS].copy()
    for c in ("viral", "breakout"):
        frame[c] = frame[c].map({1.0: True, 0.0: False}).astype("boolean")
    return pa.Table.from_pandas(frame, preserve_index=False)


LATEST = """
CREATE VIEW videos_latest AS
WITH last AS (
    SELECT * FROM snapshots QUALIFY row_number() OVER (PARTITION BY video_id ORDER BY observed_at DESC) = 1
)
SELECT v.* EXCLUDE (thumbnail), v.thumbnail IS NOT NULL AS has_thumbnail,
       l.observed_at, l.views, l.likes, l.comments, l.shares, l.creator_followers,
       lb.velocity, lb.final, lb.viral, lb.relative_to_creator, lb.breakout, lb.age_hours AS label_age_hours
FROM videos v LEFT JOIN last l USING (video_id) LEFT JOIN labels lb USING (video_id)
"""


def _embedding_views(con, embedding_tables: list[str]) -> None:
    """``<emb table>_videos``: each embedding table joined to its video (names checked as identifiers by
    ``safe_tables``)."""
    for name in embedding_tables:
        assert IDENTIFIER.match(name), name
        con.execute(f'CREATE VIEW "{name}_videos" AS SELECT e.video_id, e.vector, v.* EXCLUDE (video_id, thumbnail, '
                    f'content_hash), e.content_hash = v.content_hash AS current FROM "{name}" e JOIN videos v USING (video_id)')


_MENTIONS_LABELS = re.compile(r"\b(videos_latest|labels)\b", re.IGNORECASE)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _check_read_only(con, query: str) -> None:
    import duckdb

    try:
        statements = con.extract_statements(query)
    except duckdb.Error as err:
        raise MilesError(f"SQL does not parse: {_first_line(err)}") from err
    if not statements:
        raise MilesError("empty SQL query")
    allowed = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
    for st in statements:
        if st.type not in allowed:
            raise ReadOnlyError(f"miles sql is read-only: {st.type.name} statements are refused (only SELECT runs)")
        if st.type == duckdb.StatementType.EXPLAIN and not _explains_a_select(con, st.query):
            raise ReadOnlyError("miles sql is read-only: EXPLAIN (ANALYZE runs it) only of a SELECT")
    if len(statements) > 1:
        raise MilesError("one statement at a time, please")


_GAP = r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*"  # space and comments
_EXPLAIN = re.compile(rf"^{_GAP}EXPLAIN\b{_GAP}(?:(?:ANALY[SZ]E)\b{_GAP})?(?:\([^()]*\){_GAP})?",
                      re.IGNORECASE | re.DOTALL)


def _explains_a_select(con, query: str) -> bool:
    """Is what this EXPLAIN statement explains (and, with ANALYZE, runs) one SELECT? Anything not
    understood is no."""
    import duckdb

    m = _EXPLAIN.match(query)
    if not m:
        return False
    try:
        inner = con.extract_statements(query[m.end():])
    except duckdb.Error:
        return False
    return len(inner) == 1 and inner[0].type == duckdb.StatementType.SELECT


@dataclass
class SqlResult:
    table: pa.Table
    more: bool = False  # rows beyond the limit exist (they were not read)


def run_sql(store: Store | str | os.PathLike[str] | None, query: str, limit: int | None = None,
            timeout: float | None = DEFAULT_TIMEOUT, memory_limit: str | None = None) -> SqlResult:
    """Run one read-only query: at most ``limit`` rows are produced (the limit runs inside DuckDB); a query
    still running after ``timeout`` seconds, or grown past 1.5x ``memory_limit`` (default 1GB), is
    stopped with a ``MilesError`` that says which."""
    from miles.queries.watchdog import parse_size, run_bounded

    if limit is not None and limit < 0:
        raise MilesError(f"--limit must be 0 or more, got {limit}")
    if timeout is not None and timeout <= 0:
        raise MilesError(f"--timeout must be positive, got {timeout}")
    memory = parse_size(memory_limit or DEFAULT_MEMORY_LIMIT)
    st = store if isinstance(store, Store) else Store.open(store, must_exist=True)
    answer = run_bounded(f"{__name__}:bounded_query", {"store": st.uri, "query": query, "limit": limit,
                                                       "memory_limit": f"{memory}B"}, memory, timeout,
                         errors={"ReadOnlyError": ReadOnlyError})
    return SqlResult(answer["table"], answer["more"])


def bounded_query(payload: dict, ready) -> dict:
    """The child's side of ``run_sql``: open, check, call ``ready()`` (the watchdog's bounds start), run."""
    import duckdb

    query, limit = payload["query"], payload["limit"]
    con = connect(Store(payload["store"]), payload["memory_limit"], labels=bool(_MENTIONS_LABELS.search(query)))
    try:
        _check_read_only(con, query)
        ready()
        rel = con.sql(query)
        if limit is not None:
            rel = rel.limit(limit + 1)
        table = rel.to_arrow_table()
        more = limit is not None and table.num_rows > limit
        return {"table": table.slice(0, limit) if more else table, "more": more}
    except duckdb.PermissionException as err:
        raise ReadOnlyError(f"miles sql reads the store only; files outside it are refused ({_first_line(err)})") \
            from err
    except duckdb.OutOfMemoryException as err:
        raise MilesError(f"the query ran out of memory ({_first_line(err)}); raise --memory-limit or narrow it") \
            from err
    except duckdb.Error as err:
        raise MilesError(f"SQL error: {_first_line(err)}") from err
    finally:
        con.close()


def sql(store: Store | str | os.PathLike[str] | None, query: str, timeout: float | None = DEFAULT_TIMEOUT) -> pa.Table:
    """Run one read-only query and return the whole result as a ``pyarrow.Table``."""
    return run_sql(store, query, None, timeout).table
