"""Near-duplicate clusters against the definition written out pair by pair."""

import numpy as np

from miles.eval.duplicates import NEAR_DUPLICATE, cosine_twins, duplicate_clusters


def unit(a):
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def vectors(n=300, seed=0):
    rng = np.random.default_rng(seed)
    text, image = unit(rng.normal(size=(n, 16))), unit(rng.normal(size=(n, 8)))
    for i in range(0, 60, 2):  # near-copies: text and image both nearly equal
        text[i + 1] = unit(text[i] + rng.normal(0, 0.05, 16))
        image[i + 1] = unit(image[i] + rng.normal(0, 0.05, 8))
    for i in range(60, 100, 2):  # the same title, another thumbnail: not a copy
        text[i + 1] = text[i]
    image[200:210] = 0.0  # no thumbnail: judged by the title alone
    text[201] = text[200]
    return text.astype(np.float32), image.astype(np.float32)


def brute(text, image, threshold=NEAR_DUPLICATE):
    n = len(text)
    has_i = np.abs(image).sum(1) > 0
    out = set()
    for i in range(n):
        for j in range(i + 1, n):
            sims = [float(text[i] @ text[j])] + ([float(image[i] @ image[j])] if has_i[i] and has_i[j] else [])
            if np.mean(sims) >= threshold:
                out.add((i, j))
    return out


def test_twins_equal_the_pairwise_definition():
    text, image = vectors()
    got = {tuple(p) for p in cosine_twins(text, image).tolist()}
    assert got == brute(text, image)
    assert (200, 201) in got and (60, 61) not in got and (0, 1) in got


def test_clusters_join_hashes_and_near_copies():
    text, image = vectors()
    hashes = [f"h{i}" for i in range(len(text))]
    hashes[150] = hashes[151] = "same"
    clusters = duplicate_clusters(hashes, text, image)
    assert clusters[0] == clusters[1] >= 0 and clusters[150] == clusters[151] >= 0
    assert clusters[60] == -1 and clusters[299] == -1
    paired = {i for pair in brute(text, image) for i in pair} | {150, 151}
    assert set(np.flatnonzero(clusters >= 0)) == paired


def test_videos_without_content_are_nobody_s_copies():
    import pandas as pd

    from miles.eval.duplicates import feature_set_clusters
    from miles.heads.dataset import FeatureSet

    text = unit(np.random.default_rng(4).normal(size=(6, 16))).astype(np.float32)
    text[3:] = text[0]  # three empty titles embed alike
    frame = pd.DataFrame({"text": ["a", "b", "c", "", " ", ""], "has_thumbnail": [1.0, 1, 1, 0, 0, 0],
                          "content_hash": ["h0", "h1", "h2", "empty", "empty", "empty"]})
    fs = FeatureSet("pre_upload", None, frame, [], text=text, image=None)
    assert (feature_set_clusters(fs)[3:] == -1).all()
