"""Saved graphs as encoders: ONNX Runtime's sessions and the encoders that run them (``miles.embed.graph``
saves, checks and loads the graphs).

    enc = GraphTextEncoder(_session(path, threads=1), tokenizer_json, fingerprint, max_length)
    lanes = enc.in_lanes(2)      # the embedding job's form: two single-threaded passes at once

A graph encoder runs on the CPU without torch: a text graph with its tokenizer's own ``tokenizer.json`` (the
``tokenizers`` library) and numpy mean pooling, an image graph on numpy pixels.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from miles.embed.base import Encoder, Fingerprint, l2_normalise
from miles.embed.image import ImagePreprocess


def _session(path: Path, threads: int | None = None):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.log_severity_level = 3  # errors only
    # Its threads would otherwise spin after each run, taking the cores from what a query does next
    # (the head, SHAP, the search: 2-4x slower on two cores).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class _GraphEncoder(Encoder):
    device = "cpu"
    lanes = 1  # forward passes the embedding job runs at once, each on one thread (``miles.embed.mapper``)
    onnx_path: Path | None = None
    threads: int | None = None

    def in_lanes(self, lanes: int) -> _GraphEncoder:
        """This graph for ``lanes`` concurrent single-threaded passes (ONNX Runtime's ``run`` is thread-safe):
        on two cores, two passes of one thread each ran images 1.1x and titles 1.2x faster than one pass on
        two threads, which waits on its own threads between operators (BENCHMARKS "Runtimes")."""
        clone = copy.copy(self)
        if self.threads != 1:
            clone.session, clone.threads = _session(self.onnx_path, 1), 1
        clone.lanes = max(1, int(lanes))
        return clone

    def to(self, device: str) -> _GraphEncoder:
        if device != "cpu":
            raise ValueError("a saved graph runs on the CPU; build the full encoder for a GPU")  # internal: a bug, not input
        return self


class GraphTextEncoder(_GraphEncoder):
    """A saved text graph with its tokenizer: the vectors of ``HFTextEncoder`` (tested)."""

    def __init__(self, session, tokenizer_json: Path, fingerprint: Fingerprint, max_length: int):
        from tokenizers import Tokenizer

        self.session, self.fingerprint, self.max_length = session, fingerprint, max_length
        self.tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()

    one_per_pass = False  # set by the graph's record: each text alone, so no vector depends on its batch

    def text_lengths(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts))]

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.one_per_pass and len(texts) > 1:
            return np.concatenate([self.encode_texts([t]) for t in texts])
        enc = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in enc)
        ids = np.zeros((len(enc), width), dtype=np.int64)
        mask = np.zeros((len(enc), width), dtype=np.int64)
        for i, e in enumerate(enc):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        hidden = self.session.run(None, {"ids": ids, "mask": mask})[0]  # (n, tokens, dim)
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)  # the mean over real tokens
        return l2_normalise(pooled.astype(np.float32))


class ArrayPreprocess(ImagePreprocess):
    """``ImagePreprocess`` whose call gives numpy pixels: a graph needs no torch."""

    def __call__(self, img) -> np.ndarray:
        return self.array(img)


class GraphImageEncoder(_GraphEncoder):
    """A saved image graph: the vectors of ``TorchImageEncoder`` (tested); pixels are numpy arrays."""

    def __init__(self, session, fingerprint: Fingerprint):
        pre = {k: tuple(v) if isinstance(v, list) else v for k, v in fingerprint.preprocessing.items()}
        self.session, self.fingerprint, self.preprocess = session, fingerprint, ArrayPreprocess(**pre)

    def encode_images(self, images) -> np.ndarray:
        """(n, 3, H, W) uint8 pixels (or float, already normalised) → (n, dim) float32, unit length."""
        x = np.asarray(images)
        if len(x) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if x.dtype == np.uint8:
            p = self.preprocess
            mean = np.asarray(p.mean, dtype=np.float32).reshape(3, 1, 1) * np.float32(255.0)
            std = np.asarray(p.std, dtype=np.float32).reshape(3, 1, 1) * np.float32(255.0)
            x = (x.astype(np.float32) - mean) / std
        feats = self.session.run(None, {"pixels": np.ascontiguousarray(x, dtype=np.float32)})[0]
        return l2_normalise(feats.astype(np.float32))
