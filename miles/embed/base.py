"""The encoder interface and fingerprints; the registry that builds encoders by name is
``miles.embed.registry``.

    >>> enc = create_encoder("minilm")            # miles.embed.registry
    >>> enc.encode_texts(["Wait for it..."])      # (1, 384) float32, L2-normalised

Every encoder carries a ``Fingerprint``: what made its vectors. A store table records it, and opening a
table with an encoder whose fingerprint differs is an error that names both.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from miles.bounded import Bounded
from miles.errors import MilesError
from miles.store.embeddings import table_name, table_safe  # noqa: F401  (re-exported: where encoders' tables are named)
from miles.store.files import sha256
from miles.versions import library_versions  # noqa: F401  (re-exported for the encoders)

log = logging.getLogger(__name__)

Modality = Literal["text", "image"]

def offline_hub() -> None:
    """Never reach for a model hub at run time: a missing file must fail at once, not hang. Called by the
    encoders that use Hugging Face libraries just before they load (not on import)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class WeightsNotFound(MilesError, FileNotFoundError):
    """The weights of an encoder are not on this machine; the message says where to put them."""


@dataclass(frozen=True)
class Fingerprint:
    name: str
    modality: Modality
    dim: int
    weights_sha256: str
    preprocessing: dict[str, Any]
    pooling: str
    normalisation: str = "l2"
    versions: dict[str, str] = field(default_factory=dict)

    # What must match for two sets of vectors to be comparable; versions may drift (a warning).
    def identity(self) -> tuple:
        return (self.name, self.modality, self.dim, self.weights_sha256, json.dumps(self.preprocessing, sort_keys=True),
                self.pooling, self.normalisation)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Fingerprint:
        return cls(**json.loads(text))

    def describe(self) -> str:
        return f"{self.name} ({self.modality}, {self.dim}-d, weights {self.weights_sha256[:12]})"


class Encoder:
    """Base class: subclasses set ``fingerprint`` and implement ``encode_texts`` or ``encode_images``."""

    fingerprint: Fingerprint
    device: str = "cpu"
    own_runtime: str | None = None  # an encoder with its own engine (not torch, not a saved graph) names it

    @property
    def name(self) -> str:
        return self.fingerprint.name

    @property
    def modality(self) -> Modality:
        return self.fingerprint.modality

    @property
    def dim(self) -> int:
        return self.fingerprint.dim

    def to(self, device: str) -> Encoder:
        raise NotImplementedError

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        raise TypeError(f"{self.name} is an image encoder; it has no encode_texts")  # internal: a bug, not input

    def text_lengths(self, texts: list[str]) -> list[int]:
        """The cost of each text to the model, for batching texts of similar cost together: characters
        here; text encoders with a tokenizer count tokens."""
        return [len(t) for t in texts]

    def encode_images(self, images) -> np.ndarray:
        raise TypeError(f"{self.name} is a text encoder; it has no encode_images")  # internal: a bug, not input


_SHA_CACHE = Bounded(64)  # (path, size, mtime) -> sha256: weights files are checked once per process


def sha256_file(path: str | Path) -> str:
    p = Path(path)
    st = p.stat()

    return _SHA_CACHE.get((str(p.resolve()), st.st_size, st.st_mtime_ns), lambda: sha256(p))


def verify_checksum(path: Path, expected: str, what: str) -> str:
    got = sha256_file(path)
    if got != expected:
        raise MilesError(f"{what}: {path} has sha256 {got}, expected {expected}; reinstall the package that ships it")
    return got


def resolve_device(device: str = "auto") -> str:
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise MilesError(f"device must be auto, cpu or cuda, got {device!r}")
    if device == "cpu":  # no torch import: an encoder that needs none starts without it
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise MilesError("--device cuda was asked for, but torch sees no CUDA device; use --device cpu")
    return device


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)
