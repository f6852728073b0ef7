"""What each head reads from a feature set, as its registry entry declares (``HeadKind.reads``).

    X, features, params = head_inputs(fs, "lightgbm", fs.blocks())   # (n, n_scalars + d_text + d_image)
    X, features, params = head_inputs(fs, "baseline", fs.blocks())   # (n,) title texts
    groups = creator_groups(fs.frame)                                  # what a resample draws whole

One function for ``train``, ``eval`` and ``predict``: a draft's row goes through the same columns as every
training row.
"""

from __future__ import annotations

import numpy as np

from miles.heads.dataset import FeatureSet
from miles.heads.registry import head_kind


def head_inputs(fs: FeatureSet, head: str, blocks, seed: int = 0, rows=slice(None)) -> tuple[object, str, dict]:
    """(X, features label, params) of one head on some blocks of a feature set: a head that reads the title
    gets the texts, one that reads the prior the metadata block (and which column is the prior), one that
    reads blocks every block given."""
    reads = head_kind(head).reads
    if reads == "title":
        return fs.texts[rows], "title", {}
    if reads == "prior":
        return fs.X(["metadata"])[rows], head, {"prior_column": fs.scalar_names.index("creator_prior")}
    sizes = {"metadata": len(fs.scalar_names)}
    sizes.update({b: getattr(fs, b).shape[1] for b in blocks if b != "metadata"})
    return fs.X(blocks)[rows], "+".join(blocks), {"block_sizes": {b: sizes[b] for b in blocks}, "random_state": seed}


def creator_groups(frame) -> np.ndarray:
    """Each row's creator (its own video id where it has none): the unit that resampling draws whole."""
    return frame["creator_id"].astype(object).where(frame["creator_id"].notna(), frame["video_id"]).to_numpy()
