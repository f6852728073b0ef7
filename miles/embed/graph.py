"""Encoders as saved inference graphs: what a query loads instead of building a model.

    save_graph(encoder)          # after its CPU trace: an ONNX graph beside a JSON of its fingerprint
    enc = load_graph(fp_dict)    # the same vectors, run by ONNX Runtime without importing torch; None if absent

A query that builds a model pays for importing torch (3-4 s and 0.9 GB on a 2-core machine with the CUDA
build), transformers' model classes and tracing. The CPU runner that ``HFTextEncoder`` and
``TorchImageEncoder`` already trace is exported once (``torch.onnx.export``) under ``$MILES_CACHE_DIR``
(default ``~/.cache/miles``), named by a hash of the encoder's identity, with the tokenizer's own
``tokenizer.json`` beside a text graph (read by the ``tokenizers`` library). An export is kept only when
the graph reproduces the model's output on an example. The graphs live on this machine, made from weights
it verified: a store shared by someone else never brings a graph with it. A missing or unreadable graph
means the full encoder, which then saves one.

Each graph is checked again when it is loaded: the sha256 of its files against those recorded at export,
and its vectors for a fixed probe (two titles, two seeded thumbnails) against the model's vectors recorded
then. A graph that differs in either — replaced, truncated, edited — is removed and the full encoder is
built instead, which exports it again.
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
from miles.embed.sessions import GraphImageEncoder, GraphTextEncoder, _GraphEncoder, _session
from miles.store.files import sha256

log = logging.getLogger(__name__)
IDENTITY = ("name", "modality", "dim", "weights_sha256", "preprocessing", "pooling", "normalisation")
FORMAT = "onnx-2"  # 2: each graph records its files' sha256 and its probe vectors  # bump when what is saved changes: older graphs are then ignored
TOLERANCE = 1e-4  # largest difference from the model's own output that an export may show


def enabled() -> bool:
    """``MILES_GRAPHS=0`` turns saved graphs off: every query builds the full encoder (to compare, say)."""
    return os.environ.get("MILES_GRAPHS", "1") != "0"


def cache_dir() -> Path:
    return Path(os.environ.get("MILES_CACHE_DIR") or Path.home() / ".cache" / "miles") / "graphs"


def _model(fp: dict[str, Any]) -> dict[str, Any]:
    """What identifies the model in a fingerprint: a table's text recipe (``preprocessing["text"]``) says
    what was read, not how, so a graph serves every recipe."""
    out = {k: fp.get(k) for k in IDENTITY}
    out["preprocessing"] = {k: v for k, v in (fp.get("preprocessing") or {}).items() if k != "text"}
    return out


def _key(fp: dict[str, Any]) -> str:
    ident = json.dumps(_model(fp), sort_keys=True)
    return hashlib.sha256(f"{ident}|{FORMAT}".encode()).hexdigest()[:24]


def _example(enc: Encoder):
    import torch

    if enc.modality == "text":
        batch = enc.tokenizer(["a", "a longer example title #tag"], padding=True, return_tensors="pt")
        return (batch["input_ids"], batch["attention_mask"]), ["ids", "mask"], {0: "n", 1: "tokens"}
    crop = enc.preprocess.crop
    return (torch.zeros(2, 3, crop, crop),), ["pixels"], {0: "n"}


PROBE_TEXTS = ["a", "Wait for it… 라면 hack #fyp 🔥"]


def probe(enc: Encoder) -> np.ndarray:
    """``enc``'s vectors for the fixed probe: what a graph must reproduce each time it is loaded."""
    if enc.modality == "text":
        return enc.encode_texts(PROBE_TEXTS)
    crop = enc.preprocess.crop
    pixels = np.random.default_rng(0).integers(0, 256, size=(2, 3, crop, crop), dtype=np.uint8)
    if isinstance(enc, _GraphEncoder):
        return enc.encode_images(pixels)
    import torch

    return enc.encode_images(torch.from_numpy(pixels))


def save_graph(enc: Encoder) -> Path | None:
    """Export ``enc``'s traced CPU runner (and tokenizer); None when it has none or the export differs."""
    import torch

    runner = enc._cpu_runner() if hasattr(enc, "_cpu_runner") else None
    if not isinstance(runner, torch.jit.ScriptModule):
        return None
    fp = json.loads(enc.fingerprint.to_json())
    tmp = scratch(fp)
    args, names, _ = _example(enc)
    try:
        export(runner, enc, tmp)
        with torch.inference_mode():
            want = runner(*args).float().numpy()
        got = _session(tmp).run(None, {n: a.numpy() for n, a in zip(names, args)})[0]
        if got.shape != want.shape or np.abs(got - want).max() > TOLERANCE:
            raise ValueError(f"the exported graph differs from the model by {np.abs(got - want).max():.2g}")  # internal: a bug, not input
    except Exception as err:  # an operator ONNX lacks, say: queries keep building the full encoder
        tmp.unlink(missing_ok=True)
        log.warning("could not save %s as a graph (%s); queries will build the full encoder", enc.name, err)
        return None
    tokenizer = Path(enc.folder) / "tokenizer.json" if fp["modality"] == "text" else None
    return commit(tmp, enc, fp, {"torch": torch.__version__}, tokenizer)


def scratch(fp: dict[str, Any], part: str = "") -> Path:
    """A file name in the cache for a graph of ``fp`` being made by this process (``commit`` moves it)."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f".{_key(fp)}.{os.getpid()}{part}.onnx"


def export(module, enc: Encoder, path: Path) -> None:
    """``torch.onnx.export`` of ``module`` (taking ``enc``'s example inputs) to ``path``, its batch (and
    tokens) dimensions dynamic."""
    import torch

    args, names, axes = _example(enc)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), input_names=names, output_names=["out"], dynamo=False,
                          dynamic_axes={**{n: axes for n in names}, "out": axes}, opset_version=17)


def commit(tmp: Path, enc: Encoder, fp: dict[str, Any], extra: dict[str, Any], tokenizer: Path | None) -> Path:
    """Save the checked graph at ``tmp`` as the graph of fingerprint ``fp``: its files' sha256 and ``enc``'s
    probe vectors (``enc`` runs that graph, or is the model it reproduces) recorded beside it, the text
    graph's ``tokenizer`` copied, and the JSON written last (it says the rest is there)."""
    folder, key = tmp.parent, _key(fp)
    meta: dict[str, Any] = {"fingerprint": fp, "format": FORMAT, **extra, "sha256": {"onnx": sha256(tmp)},
                            "probe": np.round(probe(enc), 7).tolist()}
    if fp["modality"] == "text":
        shutil.copyfile(tokenizer, tmp.with_suffix(".tokenizer.json"))
        meta["max_length"] = enc.max_length
        meta["sha256"]["tokenizer"] = sha256(tmp.with_suffix(".tokenizer.json"))
        os.replace(tmp.with_suffix(".tokenizer.json"), folder / f"{key}.tokenizer.json")
    os.replace(tmp, folder / f"{key}.onnx")
    (folder / f".{key}.{os.getpid()}.json.tmp").write_text(json.dumps(meta, indent=1))
    os.replace(folder / f".{key}.{os.getpid()}.json.tmp", folder / f"{key}.json")
    return folder / f"{key}.onnx"


def ensure_graph(enc: Encoder) -> None:
    """Save ``enc``'s graph unless this machine has it (after ``miles embed``, the first query is fast)."""
    if not enabled() or not hasattr(enc, "_cpu_runner"):  # nothing to export (an encoder with its own engine)
        return
    try:
        if not (cache_dir() / f"{_key(json.loads(enc.fingerprint.to_json()))}.json").exists():
            save_graph(enc)
    except OSError as err:  # a read-only home, say: the next query builds the encoder again
        log.info("could not save %s's graph: %s", enc.name, err)


def load_graph(fp: dict[str, Any], threads: int | None = None, text_class: type | None = None) -> Encoder | None:
    """The saved graph of the encoder with fingerprint ``fp`` (the table's), or None; ``threads``: ONNX
    Runtime's intra-op threads (default: its own choice); ``text_class``: a ``GraphTextEncoder`` subclass
    to run a text graph in."""
    if not enabled():
        return None
    folder = cache_dir()
    try:
        key = _key(fp)
        meta = json.loads((folder / f"{key}.json").read_text())
        if _model(meta["fingerprint"]) != _model(fp) or meta.get("format") != FORMAT:
            return None
        sums = meta.get("sha256") or {}
        files = {"onnx": folder / f"{key}.onnx", "tokenizer": folder / f"{key}.tokenizer.json"}
        if fp["modality"] != "text":
            files.pop("tokenizer")
        if set(sums) != set(files) or any(sha256(path) != sums[part] for part, path in files.items()):
            return _discard(folder, key, fp, "its files differ from those saved at export")
        session = _session(files["onnx"], threads)
        fingerprint = Fingerprint(**meta["fingerprint"])
        if fp["modality"] == "text":
            enc = (text_class or GraphTextEncoder)(session, files["tokenizer"], fingerprint, int(meta["max_length"]))
        else:
            enc = GraphImageEncoder(session, fingerprint)
        enc.onnx_path, enc.threads = files["onnx"], threads
        if meta.get("one_per_pass"):  # a graph whose vectors depend on the batch (int8's): one text a pass
            enc.one_per_pass = True
        want = np.asarray(meta.get("probe"), dtype=np.float32)
        got = probe(enc)
        if got.shape != want.shape or not np.abs(got - want).max() <= TOLERANCE:
            return _discard(folder, key, fp, "its vectors for the probe differ from the model's")
        return enc
    except FileNotFoundError:
        return None
    except Exception as err:  # a graph this ONNX Runtime cannot read: the full encoder instead
        log.warning("saved graph for %s unusable (%s); building the full encoder", fp.get("name"), err)
        return None


def _discard(folder: Path, key: str, fp: dict[str, Any], why: str) -> None:
    """Remove a saved graph that failed its check (the full encoder exports it again); None."""
    log.warning("the saved graph of %s was changed since it was exported (%s): removed, building the full "
                "encoder", fp.get("name"), why)
    for suffix in (".json", ".onnx", ".tokenizer.json"):
        (folder / f"{key}{suffix}").unlink(missing_ok=True)
    return None
