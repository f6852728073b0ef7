"""Encode a query (a draft's title and thumbnail bytes) with the encoders that made the store's tables.

    vecs = query_vectors(store, {"text": "emb_text_minilm", "image": "emb_image_efficientnet_lite0"},
                         title="Wait for it...", hashtags=["food"], thumbnail=jpeg_bytes)

Each encoder is rebuilt by name and checked against its table's fingerprint (weights, dimension), and a
query goes through the job's own mapper (``miles.embed.mapper``): the text is composed by the table's
recipe (title and hashtags, plus the description when the table was made with it), so a query vector is
comparable with the stored ones. Thumbnails are bytes: no string
from a client ever becomes a file path here.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from miles.embed.mapper import Mapper
from miles.errors import MilesError, TooLarge
from miles.queries.cache import current
from miles.store import Store
from miles.store.embeddings import table_fingerprint
from miles.store.text import text_recipe

log = logging.getLogger(__name__)


def _encoder(fingerprint: str):
    """The encoder of a table's fingerprint: its saved graph when this machine has one (no transformers or
    timm import, no tracing), else the full encoder, checked against the fingerprint, which saves one."""
    import json

    from miles.embed.graph import ensure_graph, load_graph
    from miles.embed.registry import create_encoder

    fp = json.loads(fingerprint)
    enc = load_graph(fp)
    if enc is not None:
        return enc
    name, weights_sha256, dim = fp["name"], fp["weights_sha256"], int(fp["dim"])
    enc = create_encoder(name)
    mine = enc.fingerprint
    if (mine.dim, mine.weights_sha256) != (dim, weights_sha256):
        raise MilesError(f"the store's vectors were made by {name} with weights {weights_sha256[:12]}, but this "
                         f"machine's {name} has weights {mine.weights_sha256[:12]}: the vectors would not be "
                         "comparable")
    ensure_graph(enc)
    return enc


def store_encoder(store: Store, table: str):
    """The encoder that made ``table``, checked against the table's fingerprint (loaded once per process)."""
    import json

    key = json.dumps(table_fingerprint(store, table), sort_keys=True)
    return current().encoders.get(key, lambda: _encoder(key))


def query_vectors(store: Store, tables: dict[str, str], video_id: str | None = None, title: str | None = None,
                  thumbnail: bytes | None = None, hashtags: list[str] | None = None, description: str | None = None,
                  timings: dict | None = None) -> dict[str, np.ndarray]:
    """One (d,) unit vector per modality that the query has (encode times added to ``timings``)."""
    import pyarrow.compute as pc

    from miles.sources.parse import hashtags_in

    timings = {} if timings is None else timings
    out: dict[str, np.ndarray] = {}
    if video_id is not None:
        for modality, table in tables.items():
            rows = store.read(table, columns=["vector"], filter=pc.field("video_id") == video_id)
            if rows.num_rows:
                out[modality] = np.asarray(rows["vector"][0].as_py(), dtype=np.float32)
        if not out:
            raise MilesError(f"video {video_id!r} has no vectors yet: is it in the store? New videos are "
                             "encoded by the embedding step", hint=f"`miles embed --store {store}` encodes them")
        return out
    if title is None and thumbnail is None:
        raise MilesError("give a video id, or a title (and optionally a thumbnail)")
    if title is not None and "text" in tables:
        mapper = Mapper(store_encoder(store, tables["text"]), text_recipe(table_fingerprint(store, tables["text"])))
        tags = hashtags if hashtags is not None else hashtags_in(title)
        t = time.perf_counter()
        out["text"] = mapper.text_vectors([mapper.text(title, tags, description)])[0]
        timings["text_encode"] = time.perf_counter() - t
    if thumbnail is not None and "image" in tables:
        from miles.sources.images import MAX_BYTES, MAX_PIXELS, ImageError, ImageTooLarge, upload_size

        mapper = Mapper(store_encoder(store, tables["image"]))
        t = time.perf_counter()
        try:
            if len(thumbnail) > MAX_BYTES:
                raise ImageTooLarge(f"it is {len(thumbnail) / 2**20:.1f} MiB, over the limit of "
                                    f"{MAX_BYTES / 2**20:.0f} MiB")
            width, height = upload_size(thumbnail)  # the header only: JPEG, PNG or WebP, by content
            if width * height > MAX_PIXELS:
                raise ImageTooLarge(f"it is {width}x{height} = {width * height:,} pixels, over the limit of "
                                    f"{MAX_PIXELS:,}")
        except ImageTooLarge as err:
            raise TooLarge(f"the thumbnail is too large: {err}") from err
        except ImageError as err:
            raise MilesError(str(err)) from err
        pixels, errors = mapper.decode([thumbnail])  # decoded once, JPEGs at about the size the model needs
        if errors[0]:
            raise MilesError("the thumbnail isn't an image Miles can read (JPEG, PNG or WebP): it is damaged or "
                             "cut short")
        out["image"] = mapper.image_vectors(pixels)[0]
        timings["image_encode"] = time.perf_counter() - t
    return out
