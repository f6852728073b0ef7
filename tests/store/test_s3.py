"""A store on S3 (a local moto server on 127.0.0.1): tables, versions, the writer lease, and the index and
head folders published beside the tables and cached locally by version."""

import subprocess
import sys
import time

import numpy as np
import pytest

from miles.errors import MilesError
from miles.store import Store
from miles.store.lock import writer_lock
from tests.store.test_store import video


def test_a_store_on_s3_writes_reads_and_versions_as_a_folder_does(s3_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = Store.open(s3_store)
    assert store.remote and not store.exists() and store.table_names() == []
    with pytest.raises(MilesError, match=f"no Miles store at {s3_store}"):
        Store.open(s3_store, must_exist=True)
    r = store.upsert("videos", [video("a"), video("b")])
    assert r.inserted == 2 and store.exists() and store.table_names() == ["videos"]
    v = store.version("videos")
    assert store.upsert("videos", [video("a")]).unchanged == 1 and store.version("videos") == v  # no new version
    store.upsert("videos", [video("c")])
    assert store.version("videos") == v + 1 and store.count("videos") == 3
    assert store.read("videos", columns=["video_id"], version=v).num_rows == 2  # pinned reads
    info = {x["table"]: x for x in store.info()}
    assert info["videos"]["rows"] == 3 and info["videos"]["bytes"] > 0
    assert list(tmp_path.iterdir()) == []  # nothing written to a local folder named like the URI
    with pytest.raises(MilesError, match="needs a local store folder"):
        store.path  # noqa: B018


def test_store_uris_that_cannot_work_say_why(monkeypatch):
    with pytest.raises(MilesError, match="local folder or on S3"):
        Store("gs://bucket/miles")
    with pytest.raises(MilesError, match="name a bucket"):
        Store("s3://")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("AWS_ALLOW_HTTP", raising=False)
    with pytest.raises(MilesError, match="AWS_ALLOW_HTTP=true"):
        Store("s3://bucket/miles").table_names()


def _hold(uri: str, seconds: float) -> subprocess.Popen:
    code = ("import time; from miles.store import Store; from miles.store.lock import writer_lock\n"
            f"with writer_lock(Store({uri!r}), 'ingest'):\n    print('held', flush=True); time.sleep({seconds})\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _try(uri: str, wait: float) -> subprocess.CompletedProcess:
    code = ("from miles.store import Store; from miles.store.lock import writer_lock\n"
            f"with writer_lock(Store({uri!r}), 'train', timeout={wait}):\n    print('got')\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def _lease_exists(uri: str) -> bool:
    return Store(uri).location.exists(".miles-write.lock")


def test_a_second_writer_on_s3_waits_then_names_the_holder(s3_store):
    holder = _hold(s3_store, 30)
    try:
        t = time.perf_counter()
        with pytest.raises(MilesError, match=r"another Miles process \(miles ingest, pid \d+ on .+\) is writing"):
            with writer_lock(Store(s3_store), "embed", timeout=1.0):
                pass
        assert time.perf_counter() - t < 10
    finally:
        holder.kill()
        holder.wait()


def test_the_lease_of_a_killed_writer_expires_and_is_taken_over_once(s3_store, monkeypatch):
    monkeypatch.setenv("MILES_LEASE_SECONDS", "2")
    holder = _hold(s3_store, 60)
    holder.kill()  # kill -9: the lease stays behind until its term ends
    holder.wait()
    assert _lease_exists(s3_store)
    t = time.perf_counter()
    with writer_lock(Store(s3_store), "embed", timeout=20.0):
        assert time.perf_counter() - t >= 0.5  # it waited for the term to end
        with writer_lock(Store(s3_store), "embed", timeout=0.0):  # re-entrant in one process
            pass
        time.sleep(2.5)  # past one term: the holder renews its lease, so no one takes it over
        other = _try(s3_store + "/", 1.0)  # the same store
        assert other.returncode != 0 and "miles embed, pid" in other.stderr and "got" not in other.stdout
    assert not _lease_exists(s3_store)  # released


def test_indexes_and_heads_are_published_whole_and_cached_locally_by_version(s3_store):
    from miles.store.artifacts import current, pointer
    from miles.store.embeddings import embedding_schema
    from miles.store.index import build_index, is_stale, load_index

    store = Store(s3_store)
    rng = np.random.default_rng(0)

    def add(n, start):
        v = rng.normal(size=(n, 8)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        rows = [{"video_id": f"v{start + i}", "content_hash": "h", "vector": list(x)} for i, x in enumerate(v)]
        import pyarrow as pa

        schema = embedding_schema(8, "{}")
        if not store.has("emb_t"):
            store.create("emb_t", schema)
        store.merge("emb_t", pa.Table.from_pylist(rows, schema=schema), ["video_id"])

    add(50, 0)
    assert is_stale(store, "emb_t")
    build_index(store, "emb_t")
    first = pointer(store, "indexes", "emb_t")
    assert first["lance_version"] == store.version("emb_t") and not is_stale(store, "emb_t")
    idx = load_index(store, "emb_t", rebuild_stale=False)
    folder = current(store, "indexes", "emb_t")
    assert folder.is_relative_to(store.location.cache_dir) and len(idx.ids) == 50
    add(10, 50)
    assert is_stale(store, "emb_t")
    assert len(load_index(store, "emb_t").ids) == 60  # rebuilt and published
    second = pointer(store, "indexes", "emb_t")
    assert second["folder"] != first["folder"] and not store.location.exists(f"indexes/{first['folder']}")
    assert current(store, "indexes", "emb_t") != folder
    assert not current(store, "heads/lightgbm", "pre_upload").exists()  # nothing published there yet
