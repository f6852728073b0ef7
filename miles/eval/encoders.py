"""Which text encoder to deploy on this store, by measurement: every head that reads blocks is fitted again on
the same split with each other text table's vectors in place of the default one's.

    alts = other_text(store, fs)     # {"multilingual": (n, 384) vectors} beside the default emb_text_minilm
    # miles.eval.runner then records, per split, "metadata+text@multilingual" metrics, its gain over metadata,
    # and its paired gain over the same head on the default table ("versus": "metadata+text@minilm")

A store embedded with two text encoders (``miles embed --text-encoder multilingual`` beside the offline
preset's) is compared on the same test videos, with the same resamples, so the encoders' difference has a
paired interval; ``miles.eval.verdicts.encoder_choice`` says which to deploy, and ``miles train
--text-encoder NAME`` deploys it. Tables of descriptions (``_desc``) are never features, so never compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from miles.eval.metrics import paired_gain
from miles.heads.dataset import FeatureSet, feature_text_tables, vectors_of
from miles.heads.inputs import head_inputs
from miles.heads.registry import head_kind
from miles.store import Store
from miles.store.embeddings import table_fingerprint

SEP = "@"  # "metadata+text@multilingual": a block combination read with another text encoder


def text_encoder(fs: FeatureSet) -> str | None:
    """The name of the encoder behind ``fs.text`` (the table heads read by default)."""
    return next((fp["name"] for t, fp in fs.encoders.items() if t.startswith("emb_text_")), None)


def other_text(store: Store, fs: FeatureSet) -> dict[str, np.ndarray]:
    """Encoder name → (n, d) vectors of ``fs``'s rows, for each text table heads may read besides the default."""
    main = next((t for t in fs.encoders if t.startswith("emb_text_")), None)
    if main is None:
        return {}
    out = {}
    for table in feature_text_tables(store):
        if table != main:
            out[table_fingerprint(store, table)["name"]] = vectors_of(store, table, fs.frame["video_id"])
    return out


def compare_encoders(fs: FeatureSet, alts: dict[str, np.ndarray], heads, variants: Callable, fit: Callable,
                     y: np.ndarray, W: np.ndarray, scores: dict, gains: list[dict], seed: int = 0) -> None:
    """Fit each blocks head on each variant that reads text with each other encoder's vectors (``fit(head, X,
    params, label)`` fits, scores the test rows, records the metrics and returns the ``Fitted``), and record
    the paired AUROC and Brier gains over the default encoder; the gains over metadata come with the rest,
    from ``scores``. ``y``: the test rows' labels; ``W``: the resample weights of the split's metrics."""
    main = text_encoder(fs)
    for name, vecs in alts.items():
        alt = replace(fs, text=vecs)
        for head in [h for h in heads if head_kind(h).reads == "blocks"]:
            for blocks in [b for b in variants(alt, head) if "text" in b]:
                X, features, params = head_inputs(alt, head, blocks, seed)
                label = f"{features}{SEP}{name}"
                f = scores[(head, label)] = fit(head, X, params, label)
                other = scores.get((head, features))
                if other is None:
                    continue
                for metric in ("auroc", "brier"):
                    val, lo, hi = paired_gain(metric, y, f.p_viral, other.p_viral, W)
                    gains.append({"head": head, "moment": fs.moment, "split": f.split, "features": label,
                                  "versus": f"{features}{SEP}{main}", "metric": metric, "gain": val,
                                  "ci_low": lo, "ci_high": hi, "n": int(len(y))})


def encoder_language_note(store: Store, fs: FeatureSet, alts: dict) -> str | None:
    """The report's sentence when most of the evaluated titles are in languages the default text encoder was
    not trained on (and which other encoders are compared below)."""
    from miles.embed.languages import store_language_note, title_languages

    main = text_encoder(fs)
    if main is None:
        return None
    rows = store.read("videos", columns=["video_id", "title", "language"]).to_pandas().set_index("video_id")
    rows = rows.reindex(fs.frame["video_id"].to_numpy())
    note = store_language_note(title_languages(rows), main)
    if note is None:
        return None
    return f"{note} (the title vectors here are {main}'s" + (f"; compared with {', '.join(alts)} below)" if alts
                                                              else ")")
