"""Near-duplicate clusters: videos that are the same content, so that no split puts one on each side.

    clusters = duplicate_clusters(frame["content_hash"], text, image)   # (n,) cluster id, -1: no twin
    cosine_twins(text, image)                                          # pairs (i, j) at or above 0.98

Two videos are twins when their content hash is equal, or when the mean cosine similarity of their
vectors over the modalities both have (title text, thumbnail image) is at least ``NEAR_DUPLICATE`` — the
same rule ``miles.queries.similar`` uses to drop a near-copy from its evidence. A title alone says
little (many videos share "#shorts"), but where a source has no thumbnails it is all there is. Clusters
are the connected components of the twin pairs. Vectors are L2-normalised; a video without a vector
(zeros) has no near-twin in that modality.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NEAR_DUPLICATE = 0.98
_BLOCK_CELLS = 1 << 25  # similarities held at once (128 MiB of float32)


def _present(vectors: np.ndarray | None, n: int) -> np.ndarray:
    if vectors is None:
        return np.zeros(n, bool)
    return np.abs(vectors).sum(1) > 0


def cosine_twins(text: np.ndarray | None, image: np.ndarray | None, threshold: float = NEAR_DUPLICATE
                 ) -> np.ndarray:
    """(k, 2) pairs i < j whose mean cosine over the modalities both rows have is ≥ ``threshold``.

    Candidates come from the text vectors alone (a pair at ``threshold`` on average has text ≥
    2·threshold − 1 when both have images), searched block by block over the upper triangle; rows without
    a text vector are searched by their image vectors."""
    mats = [m for m in (text, image) if m is not None]
    if not mats:
        return np.zeros((0, 2), int)
    n = len(mats[0])
    has_t, has_i = _present(text, n), _present(image, n)
    pairs = []
    for base, has, loose in ((text, has_t, 2 * threshold - 1 if image is not None else threshold),
                             (image, has_i & ~has_t, threshold)):
        rows = np.flatnonzero(has)
        if base is None or len(rows) < 2:
            continue
        V = np.ascontiguousarray(base[rows], dtype=np.float32)  # (m, d)
        step = max(1, _BLOCK_CELLS // len(rows))
        for a in range(0, len(rows), step):
            sims = V[a:a + step] @ V[a:].T  # (block, m − a)
            i, j = np.nonzero(sims >= loose)
            keep = j > i  # upper triangle, no self-pairs
            pairs.append(np.column_stack([rows[a + i[keep]], rows[a + j[keep]]]))
    if not pairs:
        return np.zeros((0, 2), int)
    cand = np.unique(np.vstack(pairs), axis=0)
    i, j = cand[:, 0], cand[:, 1]
    total, count = np.zeros(len(cand)), np.zeros(len(cand))
    for m, has in ((text, has_t), (image, has_i)):
        if m is None:
            continue
        both = has[i] & has[j]
        total[both] += np.einsum("kd,kd->k", m[i[both]], m[j[both]])
        count[both] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), -1.0)
    return cand[mean >= threshold]


def duplicate_clusters(hashes, text: np.ndarray | None = None, image: np.ndarray | None = None,
                       threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """(n,) cluster id of each row among rows with a twin (same content hash, or a near-duplicate by
    ``cosine_twins``); -1 for a row without one."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    hashes = pd.Series(hashes, dtype=object).reset_index(drop=True)
    n = len(hashes)
    codes, _ = pd.factorize(hashes, use_na_sentinel=True)
    order = np.argsort(codes, kind="stable")
    same = (codes[order][1:] == codes[order][:-1]) & (codes[order][1:] >= 0)
    exact = np.column_stack([order[:-1][same], order[1:][same]]) if n > 1 else np.zeros((0, 2), int)
    edges = np.vstack([exact.astype(int), cosine_twins(text, image, threshold)])
    if not len(edges):
        return np.full(n, -1)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    sizes = np.bincount(comp)
    return np.where(sizes[comp] > 1, comp, -1)


def feature_set_clusters(fs) -> np.ndarray:
    """``duplicate_clusters`` of a ``FeatureSet``'s rows. A video with no title text and no thumbnail shows
    no content: nothing makes it a copy of another (63 SMP posts have neither, and one empty hash)."""
    frame = fs.frame
    has_text = frame["text"].fillna("").str.strip().ne("").to_numpy()
    content = has_text | (frame["has_thumbnail"].to_numpy(dtype=float) > 0)
    hashes = frame["content_hash"].astype(object).where(content, None)
    text = None if fs.text is None else np.where(has_text[:, None], fs.text, 0.0).astype(np.float32)
    return duplicate_clusters(hashes, text, fs.image)
