"""Encoders as saved inference graphs: what a query loads instead of building a model.

    save_graph(encoder)          # after its first CPU trace: TorchScript beside a JSON of its fingerprint
    enc = load_graph(fp_dict)    # the same vectors, without importing transformers or timm; None if absent

Building a text encoder imports transformers' model classes and tracing an image model takes seconds;
a query needs neither. The CPU runner that ``HFTextEncoder`` and ``TorchImageEncoder`` already trace and
freeze is saved once (``torch.jit.save``) under ``$MILES_CACHE_DIR`` (default ``~/.cache/miles``), named by
a hash of the encoder's fingerprint and the torch version, with the tokenizer's own ``tokenizer.json``
beside a text graph (read by the ``tokenizers`` library). The graphs live on this machine, made from
weights it verified: a store shared by someone else never brings code with it. A missing or unreadable
graph means the full encoder, which then saves one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from miles.embed.base import Encoder, Fingerprint

log = logging.getLogger(__name__)
IDENTITY = ("name", "modality", "dim", "weights_sha256", "preprocessing", "pooling", "normalisation")


def cache_dir() -> Path:
    return Path(os.environ.get("MILES_CACHE_DIR") or Path.home() / ".cache" / "miles") / "graphs"


def _model(fp: dict[str, Any]) -> dict[str, Any]:
    """What identifies the model in a fingerprint: a table's text recipe (``preprocessing["text"]``) says
    what was read, not how, so a graph serves every recipe."""
    out = {k: fp.get(k) for k in IDENTITY}
    out["preprocessing"] = {k: v for k, v in (fp.get("preprocessing") or {}).items() if k != "text"}
    return out


def _key(fp: dict[str, Any]) -> str:
    import torch

    ident = json.dumps(_model(fp), sort_keys=True)
    return hashlib.sha256(f"{ident}|torch {torch.__version__}".encode()).hexdigest()[:24]


def save_graph(enc: Encoder) -> Path | None:
    """Save ``enc``'s traced CPU graph (and tokenizer); None when it has none (tracing failed, say)."""
    import torch

    runner = enc._cpu_runner() if hasattr(enc, "_cpu_runner") else None
    if not isinstance(runner, torch.jit.ScriptModule):
        return None
    fp = json.loads(enc.fingerprint.to_json())
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    key = _key(fp)
    meta: dict[str, Any] = {"fingerprint": fp, "torch": torch.__version__}
    tmp = folder / f".{key}.{os.getpid()}"
    with warnings.catch_warnings():  # TorchScript is deprecated in favour of torch.export; it still works
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(runner, str(tmp.with_suffix(".pt")))
    if fp["modality"] == "text":
        shutil.copyfile(Path(enc.folder) / "tokenizer.json", tmp.with_suffix(".tokenizer.json"))
        meta["max_length"] = enc.max_length
        os.replace(tmp.with_suffix(".tokenizer.json"), folder / f"{key}.tokenizer.json")
    os.replace(tmp.with_suffix(".pt"), folder / f"{key}.pt")
    (folder / f".{key}.json.tmp").write_text(json.dumps(meta, indent=1))
    os.replace(folder / f".{key}.json.tmp", folder / f"{key}.json")  # written last: it says the rest is there
    return folder / f"{key}.pt"


def load_graph(fp: dict[str, Any]) -> Encoder | None:
    """The saved graph of the encoder with fingerprint ``fp`` (the table's), or None."""
    folder = cache_dir()
    try:
        key = _key(fp)
        meta = json.loads((folder / f"{key}.json").read_text())
        if _model(meta["fingerprint"]) != _model(fp):
            return None
        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            graph = torch.jit.load(str(folder / f"{key}.pt"), map_location="cpu")
        fingerprint = Fingerprint(**meta["fingerprint"])
        if fp["modality"] == "text":
            return GraphTextEncoder(graph, folder / f"{key}.tokenizer.json", fingerprint, int(meta["max_length"]))
        from miles.embed.image import ImagePreprocess, TorchImageEncoder

        pre = fingerprint.preprocessing
        enc = TorchImageEncoder(graph, fingerprint.name, fingerprint.dim, fingerprint.weights_sha256,
                                ImagePreprocess(**{k: tuple(v) if isinstance(v, list) else v for k, v in pre.items()}),
                                fingerprint.pooling, optimise=False)
        enc.fingerprint, enc._runner = fingerprint, graph
        return enc
    except FileNotFoundError:
        return None
    except Exception as err:  # a graph this torch cannot read: the full encoder instead
        log.warning("saved graph for %s unusable (%s); building the full encoder", fp.get("name"), err)
        return None


class GraphTextEncoder(Encoder):
    """A saved text graph with its tokenizer: the vectors of ``HFTextEncoder`` (tested)."""

    def __init__(self, graph, tokenizer_json: Path, fingerprint: Fingerprint, max_length: int):
        from tokenizers import Tokenizer

        self.graph, self.fingerprint, self.max_length = graph, fingerprint, max_length
        self.tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()

    def to(self, device: str) -> GraphTextEncoder:
        if device != "cpu":
            raise ValueError("a saved graph runs on the CPU; build the full encoder for a GPU")
        return self

    def text_lengths(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts))]

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        from miles.embed.text import mean_pool

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        enc = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in enc)
        ids = torch.zeros((len(enc), width), dtype=torch.long)
        mask = torch.zeros((len(enc), width), dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, : len(e.ids)] = torch.tensor(e.ids)
            mask[i, : len(e.ids)] = 1
        with torch.inference_mode():
            hidden = self.graph(ids, mask)
        return mean_pool(hidden, mask)
