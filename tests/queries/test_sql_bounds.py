"""``miles sql``'s bounds hold against hostile queries: no query grows a process by twice its memory limit or
runs for twice its timeout, and each ends with a MilesError that says which bound it met.

The queries are scaled to a 256MB limit: unbounded, each grows a process by about 1 GB (measured), or runs
for minutes; bounded, they end in seconds. Peak memory is the kernel's high-water mark (``ru_maxrss``) of a fresh
parent and of the processes it ran, each less what it was after a first run that loaded the same store
and answered ``SELECT 1`` (exact peaks, where a sampling thread could miss one between samples).
"""

import json
import subprocess
import sys

import pytest

LIMIT_MB, TIMEOUT = 256, 3.0

SCRIPT = """
import json, resource, sys, time
from miles.errors import MilesError
from miles.queries.sql import run_sql

store, query, limit, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
t = time.perf_counter()
run_sql(store, "SELECT 1 AS one", timeout=timeout, memory_limit=limit)
startup = time.perf_counter() - t
peak = lambda: [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
base = peak()
t = time.perf_counter()
try:
    run_sql(store, query, timeout=timeout, memory_limit=limit)
    error = None
except MilesError as err:
    error = str(err)
growth = max(after - before for before, after in zip(base, peak()))  # this process's, or its children's
print(json.dumps({"seconds": time.perf_counter() - t - startup, "error": error, "growth_mb": growth / 1024}))
"""


def _hostile(store_dir, query: str) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(store_dir), query, f"{LIMIT_MB}MB", str(TIMEOUT)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def empty_store(tmp_path):
    (tmp_path / "store").mkdir()
    return tmp_path / "store"


@pytest.mark.parametrize("query", [
    "SELECT sum(length(repeat('a', 100000000 + range))) FROM range(10)",  # ten 100 MB strings in one call
    "SELECT length(repeat('a', 500000000))",  # one 500 MB string, built twice
])
def test_a_query_that_builds_huge_strings_is_stopped_under_twice_the_limit(empty_store, query):
    got = _hostile(empty_store, query)
    assert got["error"] is not None and "--memory-limit" in got["error"], got
    assert got["growth_mb"] < 2 * LIMIT_MB, got
    assert got["seconds"] < 2 * TIMEOUT, got


def test_a_query_that_runs_for_minutes_is_stopped_within_twice_the_timeout(empty_store):
    got = _hostile(empty_store, "SELECT count(*) FROM range(1000000) a, range(1000000) b")
    assert got["error"] is not None and f"--timeout {TIMEOUT:g} s" in got["error"], got
    assert got["seconds"] < 2 * TIMEOUT and got["growth_mb"] < 2 * LIMIT_MB, got


def test_explain_analyze_runs_only_a_select(empty_store):
    from miles.queries import ReadOnlyError
    from miles.queries.sql import run_sql

    for query in ("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", "explain /* x */ analyze INSERT INTO videos "
                  "SELECT * FROM videos", "EXPLAIN (FORMAT json) CREATE TABLE t AS SELECT 1"):
        with pytest.raises(ReadOnlyError, match="only of a SELECT"):
            run_sql(empty_store, query)
    for query in ("EXPLAIN ANALYZE SELECT 42", "EXPLAIN WITH a AS (SELECT 1 AS x) SELECT x FROM a"):
        assert run_sql(empty_store, query).table.num_rows >= 1


def test_a_size_that_is_not_one_is_a_clear_error(empty_store):
    from miles.errors import MilesError
    from miles.queries.sql import run_sql

    for size in ("lots", "-1GB", "80%", "0MB"):
        with pytest.raises(MilesError, match="--memory-limit takes a size"):
            run_sql(empty_store, "SELECT 1", memory_limit=size)
