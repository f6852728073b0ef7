import numpy as np
import pyarrow as pa
import pytest

from miles.store.embeddings import embedding_schema
from miles.store.index import build_index, build_indexes, is_stale, load_index, read_vectors


def make_table(store, name, n, d=16, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, d)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    store.create(name, embedding_schema(d, f'{{"name": "test", "dim": {d}}}'))
    ids = [f"v{i:05d}" for i in range(n)]
    store.merge(name, pa.table({"video_id": ids, "content_hash": ids,
                                "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), d)}),
                ["video_id"])
    return np.array(ids), v


def brute_force(v, q, k):
    scores = q @ v.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k], np.sort(scores, axis=1)[:, ::-1][:, :k]


def test_flat_index_equals_numpy(store):
    ids, v = make_table(store, "emb_text_t", 500)
    build_index(store, "emb_text_t")
    idx = load_index(store, "emb_text_t")
    q = v[:20] + 0.01
    got_ids, got_scores = idx.search(q, k=10)
    rows, scores = brute_force(v, q.astype(np.float32), 10)
    assert [list(r) for r in got_ids] == [list(ids[r]) for r in rows]
    assert np.allclose(got_scores, scores, atol=1e-5)


def test_ivf_index_recall_is_measured(store):
    make_table(store, "emb_text_t", 3000, d=8)
    meta = build_index(store, "emb_text_t", exact_max=1000)
    assert meta["kind"] == "ivf_flat" and 0.5 <= meta["recall_at_10"] <= 1.0
    assert load_index(store, "emb_text_t").meta["kind"] == "ivf_flat"


def test_stale_index_is_rebuilt(store):
    make_table(store, "emb_text_t", 50)
    build_indexes(store)
    assert not is_stale(store, "emb_text_t")
    assert build_indexes(store)[0]["up_to_date"] is True
    extra = np.ones((1, 16), dtype=np.float32) / 4.0
    store.merge("emb_text_t", pa.table({"video_id": ["new"], "content_hash": ["new"],
                                        "vector": pa.FixedSizeListArray.from_arrays(pa.array(extra.reshape(-1)), 16)}),
                ["video_id"])
    assert is_stale(store, "emb_text_t")
    idx = load_index(store, "emb_text_t")
    assert len(idx.ids) == 51 and "new" in idx.search(extra, k=1)[0][0]
    assert read_vectors(store, "emb_text_t")[1].shape == (51, 16)


def test_no_embedding_tables_is_clear(store):
    with pytest.raises(ValueError, match="run `miles embed"):
        build_indexes(store)
