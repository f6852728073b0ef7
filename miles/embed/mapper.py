"""Rows of ``videos`` → vectors: the one mapper that the local job, the Ray actors and the queries share.

    mapper = Mapper(encoder, TextRecipe(description=False), batch_size=64)
    out = mapper(rows)                       # video_id, content_hash, vector, error (and empty_text for text)
    vec = mapper.text_vectors([mapper.text("Wait for it…", ["food"])])[0]

Text is composed once, by the table's recipe (``miles.store.text``), ordered by tokens so that a batch pads
to similar lengths, encoded ``batch_size`` at a time and returned in the rows' order. Thumbnails are
decoded (JPEGs in draft mode), stacked and encoded; one that fails to decode gets a null vector and its
error, and the rest of the batch goes on. Where the work runs (this process, a Ray actor) is the caller's
choice; what a row becomes is decided here only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa

from miles.embed.base import Encoder
from miles.store.text import TextRecipe, compose_text

TEXT_COLUMNS = ["title", "hashtags", "description"]
IMAGE_COLUMNS = ["thumbnail"]


class Mapper:
    """An encoder with its text recipe and batch size: what one row of ``videos`` becomes."""

    def __init__(self, enc: Encoder, recipe: TextRecipe | None = None, batch_size: int = 64, tokens: int | None = None):
        self.enc, self.recipe, self.batch_size = enc, recipe or TextRecipe(), max(1, int(batch_size))
        self.tokens = tokens  # texts per forward pass: as many as fit this many padded tokens (≤ batch_size)

    @property
    def columns(self) -> list[str]:
        """The columns of ``videos`` this mapper reads, beside ``video_id`` and ``content_hash``."""
        return TEXT_COLUMNS if self.enc.modality == "text" else IMAGE_COLUMNS

    def text(self, title: str | None, hashtags: Iterable[str] | None, description: str | None = None) -> str:
        """One video's text by this mapper's recipe (the description only when the recipe reads it)."""
        return compose_text(title, hashtags, description if self.recipe.description else None)

    def texts(self, rows: pa.Table) -> list[str]:
        desc = rows["description"].to_pylist() if "description" in rows.column_names else [None] * rows.num_rows
        return [self.text(t, h, d) for t, h, d in zip(rows["title"].to_pylist(), rows["hashtags"].to_pylist(), desc)]

    def order(self, texts: list[str]) -> list[int]:
        """Indices of ``texts`` by token count (after truncation): batches in this order pad little."""
        if len(texts) < 2:
            return list(range(len(texts)))
        return sorted(range(len(texts)), key=self.enc.text_lengths(texts).__getitem__)

    def batches(self, texts: list[str], ordered: bool = False) -> list[list[int]]:
        """Indices of ``texts`` to encode together, in token order: ``batch_size`` at a time or, with a token
        budget, as many as fit ``tokens`` once padded to the longest (never more than ``batch_size``), so
        short titles go many to a pass and long ones few."""
        if self.tokens is None:
            order = list(range(len(texts))) if ordered else self.order(texts)
            return [order[b:b + self.batch_size] for b in range(0, len(order), self.batch_size)]
        lengths = self.enc.text_lengths(texts) if texts else []
        order = list(range(len(texts))) if ordered else sorted(range(len(texts)), key=lengths.__getitem__)
        out: list[list[int]] = []
        cur: list[int] = []
        longest = 0
        for i in order:
            if cur and (len(cur) >= self.batch_size or (len(cur) + 1) * max(longest, lengths[i]) > self.tokens):
                out.append(cur)
                cur, longest = [], 0
            cur.append(i)
            longest = max(longest, lengths[i])
        return out + ([cur] if cur else [])

    def text_vectors(self, texts: list[str], ordered: bool = False,
                     progress: Callable[[int], None] | None = None) -> np.ndarray:
        """(n, dim) unit vectors in the order given; ``ordered``: the texts are already in token order."""
        vecs = np.zeros((len(texts), self.enc.dim), dtype=np.float32)
        batches = self.batches(texts, ordered)
        for idx, out in zip(batches, self._passes(self.enc.encode_texts, [[texts[i] for i in b] for b in batches])):
            vecs[idx] = out
            if progress:
                progress(len(idx))
        return vecs

    def _passes(self, encode: Callable, inputs: list) -> Iterable[np.ndarray]:
        """``encode`` of each input in order: one after another, or on the encoder's ``lanes`` threads at
        once (a saved graph's concurrent single-threaded passes, ``miles.embed.sessions``)."""
        lanes = getattr(self.enc, "lanes", 1)
        if lanes < 2 or len(inputs) < 2:
            return map(encode, inputs)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(lanes, len(inputs)), thread_name_prefix="lane") as pool:
            return list(pool.map(encode, inputs))

    def decode(self, datas: list[bytes | None]) -> tuple[list, list[str | None]]:
        """Thumbnail bytes → (pixel tensors, or None where decoding failed; the error of each, or None)."""
        from miles.embed.reader import decode

        pixels: list = []
        errors: list[str | None] = []
        for data in datas:
            try:
                pixels.append(decode(data, self.enc.preprocess))
                errors.append(None)
            except Exception as err:  # a corrupt image must not stop the job: reported with its row
                pixels.append(None)
                errors.append(f"{type(err).__name__}: {err}")
        return pixels, errors

    def image_vectors(self, pixels) -> np.ndarray:
        """A stacked (n, 3, H, W) batch (or a list of tensors) → (n, dim) unit vectors."""
        if isinstance(pixels, list):
            if not pixels:
                return np.zeros((0, self.enc.dim), dtype=np.float32)
            if isinstance(pixels[0], np.ndarray):  # a saved graph's preprocessing gives arrays
                pixels = np.stack(pixels)
            else:
                import torch

                pixels = torch.stack(pixels)
        if len(pixels) == 0:
            return np.zeros((0, self.enc.dim), dtype=np.float32)
        step = self.batch_size  # at least one pass per lane: a lane's session has one thread
        if getattr(self.enc, "lanes", 1) > 1:
            step = max(1, min(step, -(-len(pixels) // self.enc.lanes)))
        chunks = self._passes(self.enc.encode_images, [pixels[b:b + step] for b in range(0, len(pixels), step)])
        return np.concatenate(list(chunks)).astype(np.float32, copy=False)

    def __call__(self, rows: pa.Table) -> pa.Table:
        """``video_id``, ``content_hash``, ``vector`` (null where a thumbnail failed), ``error`` (and
        ``empty_text`` for text) for rows of ``videos``."""
        ids, hashes = rows["video_id"].to_pylist(), rows["content_hash"].to_pylist()
        if self.enc.modality == "text":
            texts = self.texts(rows)
            return vectors_table(ids, hashes, self.text_vectors(texts), self.enc.dim,
                                 empty=[not t.strip() for t in texts], errors=[None] * len(ids))
        pixels, errors = self.decode(rows["thumbnail"].to_pylist())
        ok = [i for i, p in enumerate(pixels) if p is not None]
        vecs = np.zeros((len(ids), self.enc.dim), dtype=np.float32)
        if ok:
            vecs[ok] = self.image_vectors([pixels[i] for i in ok])
        return vectors_table(ids, hashes, vecs, self.enc.dim, errors=errors)


def vectors_table(ids: list[str], hashes: list[str], vecs: np.ndarray, dim: int, empty: list[bool] | None = None,
                  errors: list[str | None] | None = None) -> pa.Table:
    """The rows an embedding table stores (``video_id``, ``content_hash``, ``vector`` [, ``empty_text``]),
    with an ``error`` column, and a null vector on each row that has one, when ``errors`` is given."""
    mask = pa.array([e is not None for e in errors], pa.bool_()) if errors is not None else None
    vector = pa.FixedSizeListArray.from_arrays(pa.array(vecs.astype(np.float32).reshape(-1)), dim, mask=mask)
    cols = {"video_id": pa.array(ids, pa.string()), "content_hash": pa.array(hashes, pa.string()), "vector": vector}
    if empty is not None:
        cols["empty_text"] = pa.array(empty, pa.bool_())
    if errors is not None:
        cols["error"] = pa.array(errors, pa.string())
    return pa.table(cols)
