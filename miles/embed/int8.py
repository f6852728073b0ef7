"""The ``minilm_int8`` text encoder: MiniLM with 8-bit matrix weights, run by ONNX Runtime (opt-in).

    enc = create_encoder("minilm_int8")      # built once per machine from MiniLM's verified weights
    enc.encode_texts(["cat video"])          # (1, 384); cosine to MiniLM's own vector about 0.99

ONNX Runtime's dynamic quantisation: the weights of every linear layer (``MatMul`` with a constant weight)
stored as int8 with a scale per output channel, activations quantised pass by pass when it runs (one title a
pass, so that no vector depends on its batch); attention's own products, layer norms and the embeddings stay
float. On two cores its model reads real titles 1.4-1.9x as fast as MiniLM's float graph, and the whole job
1.2-1.45x (BENCHMARKS "Runtimes"), at a cost in the vectors (cosine 0.99 to MiniLM's, a small AUROC loss on
one store of three): near MiniLM's, not equal, so
this is its own encoder, never a runtime of MiniLM's — its own name, table (``emb_text_minilm_int8``) and
fingerprint (MiniLM's weights and tokenizer plus the quantisation recipe), and a store may hold both, which
``miles eval`` compares on the same test videos.

The graph is built from MiniLM's eager model: its frozen trace (the float graph's source) folds the weights
into constants, which quantisation cannot see. It is saved and checked on every load like every graph
(``miles.embed.graph``: its files' sha256, its vectors for the probe); building needs torch, loading does not.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from miles.embed.base import Encoder
from miles.embed.graph import (
    PROBE_TEXTS,
    GraphTextEncoder,
    _session,
    commit,
    enabled,
    export,
    load_graph,
    scratch,
)
from miles.embed.text import MINILM_SHA256
from miles.errors import MilesError

log = logging.getLogger(__name__)
NAME = "minilm_int8"
OPS, PER_CHANNEL, WEIGHTS = ("MatMul",), True, "QInt8"  # what build() passes to quantize_dynamic
RECIPE = (f"onnxruntime dynamic int8: {'/'.join(OPS)} weights {WEIGHTS}"
          f"{' per output channel' if PER_CHANNEL else ''}, activations per pass (QUInt8), one text a pass")
# MiniLM's fingerprint as ``miles.embed.text.minilm`` builds it (checked against the model when built, and by
# a test), so that loading the saved graph needs neither torch nor transformers.
MINILM = {"name": "minilm", "modality": "text", "dim": 384, "weights_sha256": MINILM_SHA256, "pooling": "mean",
          "normalisation": "l2", "preprocessing": {"lowercase": True, "max_length": 256, "tokenizer": "BertTokenizer"}}
MIN_COSINE = 0.95  # the least cosine to MiniLM's vector on the probe titles that a build may show


def fingerprint() -> dict:
    """The table fingerprint of ``minilm_int8``: MiniLM's identity under its own name, with the recipe."""
    from miles.versions import library_versions

    fp = json.loads(json.dumps(MINILM))
    fp["name"] = NAME
    fp["preprocessing"]["quantisation"] = RECIPE
    fp["versions"] = library_versions("onnxruntime", "tokenizers")
    return fp


class Int8TextEncoder(GraphTextEncoder):
    """The quantised graph with MiniLM's tokenizer. It runs in ONNX Runtime on the CPU whatever the job's
    runtime or device (said once, not refused: a GPU machine may still want these vectors)."""

    own_runtime = "onnx"
    # Activations are quantised by each pass's own range, so in a batch a title's vector would move with its
    # neighbours (by up to 0.013): one title a pass, recorded with the graph so that a query runs it so too.
    one_per_pass = True

    def to(self, device: str) -> Int8TextEncoder:
        if device != "cpu":
            log.warning("%s runs in ONNX Runtime on the CPU, not on %s", NAME, device)
        return self


def minilm_int8(threads: int | None = None) -> Encoder:
    """The saved int8 graph (built first when this machine has none); ``threads``: ONNX Runtime's intra-op
    threads (default: every core this process may use)."""
    from miles.embed.runtime import cores

    if not enabled():
        raise MilesError(f"{NAME} exists only as a saved graph, and saved graphs are turned off here",
                         hint="unset MILES_GRAPHS=0 to use it")
    fp = fingerprint()
    enc = load_graph(fp, threads=threads or cores(), text_class=Int8TextEncoder)
    if enc is None:
        build(fp)
        enc = load_graph(fp, threads=threads or cores(), text_class=Int8TextEncoder)
    if enc is None:  # pragma: no cover - a cache folder that loses files as they are written
        raise MilesError(f"{NAME}'s graph could not be saved or read back on this machine")
    return enc


def build(fp: dict) -> Path:
    """Export MiniLM's eager model, quantise it, check it against the model and save it as ``fp``'s graph."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from miles.embed.text import _LastHidden, minilm

    base = minilm()
    mine = json.loads(base.fingerprint.to_json())
    if any(mine[k] != v for k, v in MINILM.items()):  # a MiniLM package that is not the one recorded
        raise MilesError(f"this machine's MiniLM is not the one {NAME} was made from: "
                         f"{ {k: mine[k] for k in MINILM if mine[k] != MINILM[k]} }")
    float_tmp, tmp = scratch(fp, ".float"), scratch(fp)
    try:
        export(_LastHidden(base.model).eval(), base, float_tmp)
        root = logging.getLogger()
        was, root.disabled = root.disabled, True  # the quantiser's advice to pre-process, on the root logger
        try:
            quantize_dynamic(str(float_tmp), str(tmp), op_types_to_quantize=list(OPS), per_channel=PER_CHANNEL,
                             weight_type=getattr(QuantType, WEIGHTS))
        finally:
            root.disabled = was
        enc = Int8TextEncoder(_session(tmp), Path(base.folder) / "tokenizer.json", base.fingerprint,
                               base.max_length)
        texts = [*PROBE_TEXTS, "how to cook rice in 60 seconds", "猫の動画 #shorts"]
        cos = (enc.encode_texts(texts) * base.encode_texts(texts)).sum(1)
        if cos.min() < MIN_COSINE:  # a quantiser that broke the model
            raise ValueError(f"int8 vectors too far from MiniLM's (cosine {cos.min():.3f})")  # internal: a bug
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        float_tmp.unlink(missing_ok=True)
    import onnxruntime

    extra = {"from": "minilm", "onnxruntime": onnxruntime.__version__, "one_per_pass": Int8TextEncoder.one_per_pass}
    return commit(tmp, enc, fp, extra, Path(base.folder) / "tokenizer.json")

