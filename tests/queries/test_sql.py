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
