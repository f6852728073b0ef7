"""FAISS indexes over embedding tables, saved beside the store with their id map and source version.

    >>> build_index(store, "emb_text_minilm")          # exact inner product up to 1M vectors, IVF above
    >>> idx = load_index(store, "emb_text_minilm")      # rebuilt first when the table has moved on
    >>> ids, scores = idx.search(queries, k=10)        # queries: (q, d) float32, L2-normalised

Vectors are unit length, so inner product is cosine similarity. Files: ``indexes/<table>.faiss``,
``indexes/<table>.ids.npy`` (row → video_id) and ``indexes/<table>.json`` (kind, Lance version, recall).
On object storage the three files are one folder replaced whole (``miles.store.artifacts``), its
metadata in the pointer, fetched once per table version into the local cache.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from miles.errors import MilesError
from miles.store.artifacts import current, pointer, publish
from miles.store.core import Store
from miles.store.files import MiB, check_file, read_inside, write_inside

log = logging.getLogger(__name__)

EXACT_MAX = 1_000_000


@dataclass
class VectorIndex:
    table: str
    index: object  # faiss.Index
    ids: np.ndarray  # (n,) video_id strings
    meta: dict

    def search(self, queries: np.ndarray, k: int = 10) -> tuple[list[list[str]], np.ndarray]:
        """(q, d) float32 → video ids (q lists of up to k) and scores (q, k); missing hits are dropped."""
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        scores, rows = self.index.search(q, min(k, len(self.ids)) if len(self.ids) else 1)
        out = [[self.ids[r] for r in row if r >= 0] for row in rows]
        return out, scores


def index_dir(store: Store, table: str) -> Path:
    """The local folder that holds the index files of ``table``."""
    return current(store, "indexes", table) if store.remote else store.path / "indexes"


def _write(root: Path, folder: Path, table: str, index, ids: np.ndarray, meta: dict) -> None:
    """The index, its ids and its metadata as new files renamed into ``folder`` (inside the store ``root``)."""
    import io

    import faiss

    write_inside(root, folder / f"{table}.faiss", faiss.serialize_index(index).tobytes())
    buf = io.BytesIO()
    np.save(buf, ids.astype(str))
    write_inside(root, folder / f"{table}.ids.npy", buf.getvalue())
    write_inside(root, folder / f"{table}.json", json.dumps(meta, indent=2).encode())


def read_vectors(store: Store, table: str, version: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n,) ids and (n, d) float32 vectors of an embedding table."""
    t = store.dataset(table, version).to_table(columns=["video_id", "vector"])
    dim = t.schema.field("vector").type.list_size
    vecs = t["vector"].combine_chunks().flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
    return np.asarray(t["video_id"].to_pylist(), dtype=object), np.ascontiguousarray(vecs, dtype=np.float32)


def recall_at_k(approx, exact, k: int = 10) -> float:
    hits = sum(len(set(a[:k]) & set(e[:k])) for a, e in zip(approx, exact))
    return hits / max(1, sum(min(k, len(e)) for e in exact))


def build_index(store: Store, table: str, exact_max: int = EXACT_MAX, nprobe: int | None = None,
                seed: int = 0) -> dict:
    """Build and save the index of ``table``; returns its metadata."""
    import faiss

    t0 = time.perf_counter()
    version = store.version(table)
    ids, vecs = read_vectors(store, table, version)
    n, d = vecs.shape
    meta = {"table": table, "lance_version": version, "n": int(n), "dim": int(d), "metric": "inner_product"}
    if n <= exact_max:
        index = faiss.IndexFlatIP(d)
        index.add(vecs)
        meta["kind"] = "flat"
    else:
        nlist = int(4 * math.sqrt(n))
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = vecs[rng.choice(n, size=min(n, 64 * nlist), replace=False)]
        index.train(sample)
        index.add(vecs)
        index.nprobe = nprobe or max(1, nlist // 16)
        # Measure what IVF gives up: recall@10 against exact search on held-in queries.
        q = vecs[rng.choice(n, size=min(n, 1000), replace=False)]
        exact = faiss.IndexFlatIP(d)
        exact.add(vecs)
        _, e = exact.search(q, 10)
        _, a = index.search(q, 10)
        meta.update(kind="ivf_flat", nlist=nlist, nprobe=index.nprobe, recall_at_10=recall_at_k(a.tolist(), e.tolist()))
        log.info("%s: IVF index with nlist %d, nprobe %d: recall@10 %.3f against exact search",
                 table, nlist, index.nprobe, meta["recall_at_10"])
    meta["build_seconds"] = round(time.perf_counter() - t0, 3)
    if store.remote:
        publish(store, "indexes", table, lambda folder: _write(folder, folder, table, index, ids, meta), meta)
    else:
        _write(store.path, store.path / "indexes", table, index, ids, meta)
    log.info("%s: %s index of %d vectors (Lance version %d) in %.1f s", table, meta["kind"], n, version,
             meta["build_seconds"])
    return meta


def index_meta(store: Store, table: str) -> dict | None:
    if store.remote:
        return pointer(store, "indexes", table)
    path = store.path / "indexes" / f"{table}.json"
    if not os.path.lexists(path):
        return None
    try:
        return json.loads(read_inside(store.path, path, cap=MiB))
    except ValueError:
        raise MilesError(f"{path} is not an index's metadata: run `miles index --store {store} --force`") from None


def is_stale(store: Store, table: str) -> bool:
    meta = index_meta(store, table)
    return meta is None or meta.get("lance_version") != store.version(table)


def load_index(store: Store, table: str, rebuild_stale: bool = True) -> VectorIndex:
    """Load the saved index; a missing or stale one (the table has a newer version) is rebuilt first."""
    import faiss

    if is_stale(store, table):
        if not rebuild_stale:
            raise MilesError(f"the index of {table} is missing or stale: run `miles index --store {store}`")
        log.info("index of %s is missing or stale; rebuilding", table)
        build_index(store, table)
    folder = index_dir(store, table)
    root = folder if store.remote else store.path
    n, dim = store.count(table), store.dataset(table).schema.field("vector").type.list_size
    path = folder / f"{table}.faiss"
    check_index_file(root, path, n, dim)
    try:
        index = faiss.read_index(str(path))
        ids = np.load(io.BytesIO(read_inside(root, folder / f"{table}.ids.npy", cap=n * 1024 + MiB)),
                      allow_pickle=False)
    except (RuntimeError, ValueError, OSError) as err:  # faiss's own checks, a damaged .npy
        raise MilesError(f"the index of {table} cannot be read ({str(err).splitlines()[0][:200]}): run "
                         f"`miles index --store {store} --force`") from None
    if index.ntotal != n or index.d != dim or len(ids) != n:
        raise MilesError(f"the index of {table} does not match the table: run `miles index --store {store} --force`")
    return VectorIndex(table, index, ids, index_meta(store, table) or {})


KINDS = (b"IxFI", b"IwFl")  # the flat and IVF-flat inner-product indexes build_index writes


def check_index_file(root: Path, path: Path, n: int, dim: int) -> None:
    """Refuse an index file before FAISS reads it unless it is a regular file of the store, of a kind
    ``build_index`` writes, whose header names the table's size and dimension, and no larger than those
    vectors (and an IVF's centroids) can be: FAISS trusts the sizes written inside a file."""
    nlist = int(4 * math.sqrt(max(n, 1))) + 1
    size = check_file(root, path, cap=n * (dim * 4 + 16) + nlist * dim * 4 + MiB)
    with open(path, "rb") as f:
        head = f.read(45)
    bad = len(head) < 45 or head[:4] not in KINDS
    if not bad:
        d, ntotal = struct.unpack("<iq", head[4:16])
        bad = (d, ntotal) != (dim, n)
        if head[:4] == b"IxFI":
            bad = bad or struct.unpack("<Q", head[37:45])[0] != n * dim or size < 45 + 4 * n * dim
    if bad:
        raise MilesError(f"{path} is not the index of a table of {n} vectors of {dim} (its header or size "
                         "differs): run `miles index --force`")


def build_indexes(store: Store, tables: list[str] | None = None, force: bool = False,
                  exact_max: int = EXACT_MAX) -> list[dict]:
    """Build the index of each embedding table (or of ``tables``) that is missing or stale."""
    from miles.store.embeddings import embedding_tables
    from miles.store.lock import writer_lock

    names = tables or embedding_tables(store)
    if not names:
        raise MilesError(f"store {store} has no embedding tables: run `miles embed --store {store}` first")
    out = []
    with writer_lock(store, "index"):
        for name in names:
            store.table(name)  # a clear error for an unknown table
            if force or is_stale(store, name):
                out.append(build_index(store, name, exact_max=exact_max))
            else:
                out.append({**index_meta(store, name), "up_to_date": True})
    return out
