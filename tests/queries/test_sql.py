import pytest

from miles.queries import ReadOnlyError, sql


def test_sql_matches_pandas(demo_store):
    got = sql(demo_store, "SELECT creator_id, count(*) AS n, sum(views) AS total FROM snapshots "
                          "JOIN videos USING (video_id) GROUP BY creator_id ORDER BY creator_id").to_pylist()
    s = demo_store.read("snapshots").to_pandas().merge(demo_store.read("videos", columns=["video_id", "creator_id"]).to_pandas())
    expected = s.groupby("creator_id").agg(n=("views", "size"), total=("views", "sum")).reset_index()
    assert [(r["creator_id"], r["n"], r["total"]) for r in got] == [
        (r.creator_id, r.n, r.total) for r in expected.itertuples()]


def test_rejects_table_always_queryable(demo_store):
    assert sql(demo_store, "SELECT count(*) AS n FROM rejects").to_pylist() == [{"n": demo_store.count("rejects")}]


@pytest.mark.parametrize("query", [
    "INSERT INTO videos SELECT * FROM videos",
    "DELETE FROM videos",
    "CREATE TABLE x AS SELECT 1",
    "DROP VIEW videos",
    "SELECT 1; DELETE FROM videos",
    "COPY videos TO 'out.csv'",
    "ATTACH 'other.db'",
    "SET enable_external_access = true",
])
def test_writes_refused(demo_store, query):
    with pytest.raises(ReadOnlyError, match="read-only"):
        sql(demo_store, query)


def test_files_outside_store_refused(demo_store, tmp_path):
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(ReadOnlyError, match="files outside it are refused"):
        sql(demo_store, f"SELECT * FROM read_csv('{tmp_path / 'x.csv'}')")


def test_bad_sql_is_clear(demo_store):
    with pytest.raises(ValueError, match="does not parse"):
        sql(demo_store, "SELEC nonsense")


def _miles(*args, cwd=None, timeout=120):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "miles.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def test_a_crafted_table_name_runs_nothing(demo_store, tmp_path):
    """A shared store's folder name cannot smuggle SQL into the views Miles creates."""
    import shutil

    copy = tmp_path / "store"
    shutil.copytree(demo_store.path / "emb_text_minilm.lance", copy /
                    """emb_z" AS SELECT 1; COPY (SELECT 'echo owned' AS l) TO '.bashrc' (HEADER false, QUOTE ''); --.lance""")
    shutil.copytree(demo_store.path / "videos.lance", copy / "videos.lance")
    work = tmp_path / "cwd"
    work.mkdir()
    r = _miles("sql", "SELECT count(*) AS n FROM videos", "--store", str(copy), "--format", "json", cwd=work)
    assert r.returncode == 0, r.stderr
    assert list(work.iterdir()) == [] and not (copy / ".bashrc").exists()
    assert "not a plain name" in r.stderr


def test_the_limit_runs_inside_duckdb(demo_store):
    import json
    import subprocess
    import sys

    # A fresh parent whose only child is the command, so the peak memory read is that command's own.
    code = ("import json, resource, subprocess, sys\n"
            "r = subprocess.run([sys.executable, '-m', 'miles.cli', 'sql', 'SELECT * FROM range(100000000)', "
            f"'--store', {str(demo_store.path)!r}, '--limit', '5', '--format', 'json'], capture_output=True, "
            "text=True)\n"
            "print(json.dumps([r.returncode, r.stdout, r.stderr, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    code, stdout, stderr, peak_kib = json.loads(out.stdout)
    assert code == 0, stderr
    assert [row["range"] for row in json.loads(stdout)] == [0, 1, 2, 3, 4]
    assert "more were not read" in stderr
    assert peak_kib < 500 * 1024  # under 500 MB


def test_a_runaway_query_stops_at_the_timeout(demo_store):
    import time

    t = time.perf_counter()
    r = _miles("sql", "SELECT count(*) FROM range(100000) a, range(100000) b, range(1000) c", "--store",
               str(demo_store.path), "--timeout", "5")
    assert r.returncode == 2 and "--timeout 5 s" in r.stderr
    assert time.perf_counter() - t < 40


@pytest.mark.parametrize("query, message", [
    ("SELECT no_such_column FROM videos", "SQL error: Binder Error"),
    ("SELECT CAST('x' AS INTEGER)", "SQL error: Conversion Error"),
    ("SELECT * FROM nowhere", "SQL error: Catalog Error"),
])
def test_duckdb_errors_are_one_line(demo_store, query, message):
    r = _miles("sql", query, "--store", str(demo_store.path))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_memory_limit_is_a_flag(demo_store):
    r = _miles("sql", "SELECT list(range) FROM range(3000000)", "--store", str(demo_store.path),
               "--memory-limit", "20MB")
    assert r.returncode == 2 and "memory" in r.stderr.lower() and "Traceback" not in r.stderr
    r = _miles("sql", "SELECT 1 AS one", "--store", str(demo_store.path), "--memory-limit", "lots")
    assert r.returncode == 2 and "Traceback" not in r.stderr
