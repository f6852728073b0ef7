"""Embedding tables: ``emb_<modality>_<encoder>`` with ``video_id``, ``content_hash``, ``vector``.

The store knows nothing of models: a table's encoder is the opaque fingerprint JSON kept in its schema
metadata under ``miles.fingerprint``; ``open_embedding_table`` refuses a table whose fingerprint
identity differs from the caller's.
"""

from __future__ import annotations

import json
import logging
import re

import pyarrow as pa

from miles.errors import MilesError
from miles.store.core import Store

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "miles.fingerprint"
IDENTITY_FIELDS = ("name", "modality", "dim", "weights_sha256", "preprocessing", "pooling", "normalisation")


def embedding_schema(dim: int, fingerprint_json: str, with_empty_flag: bool = False) -> pa.Schema:
    fields = [
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("content_hash", pa.string()),
        pa.field("vector", pa.list_(pa.float32(), dim)),  # fixed size: DuckDB sees FLOAT[dim]
    ]
    if with_empty_flag:
        fields.append(pa.field("empty_text", pa.bool_()))
    return pa.schema(fields, metadata={FINGERPRINT_KEY: fingerprint_json})


def embedding_tables(store: Store) -> list[str]:
    return [n for n in store.table_names() if n.startswith("emb_")]


def table_fingerprint(store: Store, name: str) -> dict:
    meta = store.metadata(name)
    if FINGERPRINT_KEY not in meta:
        raise MilesError(f"table {name!r} has no encoder fingerprint; it was not written by miles embed")
    return json.loads(meta[FINGERPRINT_KEY])


def _describe(fp: dict) -> str:
    return f"{fp.get('name')} ({fp.get('dim')}-d, weights {str(fp.get('weights_sha256'))[:12]})"


def open_embedding_table(store: Store, name: str, fingerprint_json: str, with_empty_flag: bool = False):
    """Create the table for this encoder, or open it after checking that the same encoder made it."""
    fp = json.loads(fingerprint_json)
    if not store.has(name):
        return store.create(name, embedding_schema(int(fp["dim"]), fingerprint_json, with_empty_flag))
    have = table_fingerprint(store, name)
    if have.get("modality") == "text" and "text" not in have.get("preprocessing", {}):
        # tables from before the text recipe was recorded hold titles and hashtags
        have["preprocessing"] = {**have.get("preprocessing", {}), "text": "title+hashtags"}
    diff = [k for k in IDENTITY_FIELDS if have.get(k) != fp.get(k)]
    if diff:
        raise MilesError(
            f"table {name!r} holds vectors of {_describe(have)}, not of {_describe(fp)} (they differ in "
            f"{', '.join(diff)}); vectors of different encoders are never mixed: use another encoder name "
            f"or rebuild the table"
        )
    if have.get("versions") != fp.get("versions"):
        log.warning("table %s was written with %s; this run has %s", name, have.get("versions"), fp.get("versions"))
    return store.table(name)


def table_safe(name: str) -> str:
    """An encoder's name as part of a table name: lower case, runs of other characters as one ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def table_name(modality: str, encoder_name: str) -> str:
    """The table of an encoder's vectors: ``emb_text_minilm``, ``emb_image_efficientnet_lite0``."""
    return f"emb_{modality}_{table_safe(encoder_name)}"
