"""Embedding throughput: end-to-end ``miles embed`` beside the model-only forward rate, same run.

    python benchmarks/bench_embed.py --sizes 1000 4000 16000 --int8          # CPU, offline preset (+ minilm_int8)
    python benchmarks/bench_embed.py --device cuda --preset paper --random-ok  # a GPU machine
    python benchmarks/bench_embed.py --device cuda --decoders pil nvjpeg auto  # thumbnail decoders side by side
    python benchmarks/bench_embed.py --store bili-store                       # a store's own videos (real covers)

For each size, synthetic demo videos are generated and ingested (untimed), or with ``--store`` the videos of
an ingested store are copied (its ``videos`` and ``snapshots`` only, so nothing is embedded yet); then a fresh subprocess loads
the encoders, runs the embedding job end to end (read, decode, encode, write), and times the model alone
on pre-decoded pixels / pre-tokenised titles of the same data right before and right after each job.
``model/s`` is the mean of the two, ``drift`` their ratio (after / before: how much the machine's speed
moved during the job), ``ratio`` = end-to-end / model-only: 1.0 means reading, decoding and writing are
fully hidden behind the model. Both models are warmed up before
the timed runs (on the CPU the image model is traced and frozen on its first batch). With several ``--decoders`` the
image job runs once per decoder, each on its own copy of the freshly ingested store, in the same process.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import io, json, resource, shutil, sys, time
import numpy as np, torch
from PIL import Image
from miles.embed.registry import create_encoder, preset_encoders
from miles.embed.job import EmbedConfig, embed
from miles.embed.reader import decode
from miles.store.text import compose_text
from miles.store import Store

store_dir, preset, device, batch, random_ok = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
decoders = sys.argv[6].split(",")
copies = [shutil.copytree(store_dir, f"{store_dir}-{i}") for i in range(len(decoders))]  # pristine stores
names = preset_encoders(preset)
out = {"weights": {}}
encoders = {}
for modality, name in names.items():
    t = time.perf_counter()
    try:
        enc = create_encoder(name, device=device)
        out["weights"][modality] = "real"
    except FileNotFoundError:
        if not random_ok:
            raise
        enc = create_encoder(name, device=device, weights="random")
        out["weights"][modality] = "random"
    out[f"load_{modality}_s"] = time.perf_counter() - t
    encoders[modality] = enc
# Warm up both models first (tracing and freezing on the CPU, kernel selection on CUDA), so that no decoder
# run pays for it and the rates are the steady state.
encoders["text"].encode_texts(["warm up", "the text model"])
crop = encoders["image"].preprocess.crop
encoders["image"].encode_images(torch.zeros(2, 3, crop, crop, dtype=torch.uint8))
store = Store.open(store_dir)
sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

# Model-only inputs, prepared before any timed run: the same titles (sorted by length in tokens, as the job
# does; tokenised by each runtime's mapper in the timed part) and pre-decoded uint8 pixels of the thumbnails.
rows = store.read("videos", columns=["title", "hashtags"]).to_pylist()[:2048]
texts = [compose_text(r["title"], r["hashtags"]) for r in rows]
texts = [texts[i] for i in sorted(range(len(texts)), key=encoders["text"].text_lengths(texts).__getitem__)]
tenc, ienc = encoders["text"], encoders["image"]
from miles.embed.runtime import forward_batch

thumbs = store.read("videos", columns=["thumbnail"], filter="thumbnail IS NOT NULL").to_pylist()[:512]
pixels = torch.stack([decode(r["thumbnail"], ienc.preprocess) for r in thumbs])
if device.startswith("cuda"):
    pixels = pixels.pin_memory()

# The model-only rate right before and right after each end-to-end job: a machine's speed drifts, and the
# ratio should compare the job with the model as fast as it was at the time.
def bracketed(model, job):
    before = model()
    rep = job()
    after = model()
    return rep, {"model_rate": (before + after) / 2, "model_before": before, "model_after": after}

from miles.embed.mapper import Mapper
from miles.embed.runtime import runtime_for, text_tokens

runtimes = sys.argv[7].split(",")
out["runs"] = []
for r in runtimes:
    # the forward batch of each runtime: --batch-size, or 0 for the job's own choice (runtime.forward_batch)
    tb, ib = forward_batch("text", r, device, batch or None), forward_batch("image", r, device, batch or None)
    tok = text_tokens(device, batch or None)
    if r == "torch":
        gt, gi = tenc, ienc
    else:
        gt, gi = runtime_for(tenc, "onnx", device)[0], runtime_for(ienc, "onnx", device)[0]

    def mt(gt=gt, tb=tb):  # titles through the job's mapper (its tokenizer included, its batches by tokens)
        m = Mapper(gt, batch_size=tb, tokens=tok)
        sync(); t = time.perf_counter()
        m.text_vectors(texts, ordered=True)
        sync()
        return len(texts) / (time.perf_counter() - t)

    def mi(gi=gi, ib=ib):  # decoded pixels through the job's mapper (its passes, concurrent for a graph)
        m = Mapper(gi, batch_size=ib)
        sync(); t = time.perf_counter()
        m.image_vectors(pixels)
        sync()
        return len(pixels) / (time.perf_counter() - t)
    mt(); mi()  # first calls pay for allocation and tracing; not timed
    tcopy = shutil.copytree(store_dir, f"{store_dir}-text-{r}")
    rep, m = bracketed(mt, lambda: embed(Store.open(tcopy), EmbedConfig(preset=preset, device=device, batch_size=batch or None,
                       progress=False, modalities=("text",), runtime=r), encoders)["text"])
    out["runs"].append({"runtime": rep.runtime, "modality": "text", "decoder": "–", "n": rep.encoded, "batch": tb,
                        "seconds": rep.seconds, "e2e_rate": rep.rate, "encoder": rep.encoder, **m})
    for d, copy in zip(decoders, copies):
        icopy = shutil.copytree(copy, f"{copy}-{r}")
        rep, m = bracketed(mi, lambda: embed(Store.open(icopy), EmbedConfig(
            preset=preset, device=device, batch_size=batch or None, progress=False, modalities=("image",), decoder=d,
            runtime=r), encoders)["image"])
        out["runs"].append({"runtime": rep.runtime, "modality": "image", "encoder": rep.encoder, "batch": ib,
                            "decoder": rep.decoder if d != "auto" else f"auto:{rep.decoder}", "n": rep.encoded,
                            "seconds": rep.seconds, "e2e_rate": rep.rate, **m})
if "int8" in sys.argv[8:]:  # the opt-in int8 text encoder, beside the float runtimes on the same titles
    q8 = runtime_for(create_encoder("minilm_int8"), "auto", device)[0]

    def m8():
        m = Mapper(q8, batch_size=forward_batch("text", "onnx", device), tokens=text_tokens(device))
        t = time.perf_counter()
        m.text_vectors(texts, ordered=True)
        return len(texts) / (time.perf_counter() - t)
    m8()
    qcopy = shutil.copytree(store_dir, f"{store_dir}-text-int8")
    rep, m = bracketed(m8, lambda: embed(Store.open(qcopy), EmbedConfig(text_encoder="minilm_int8", device=device,
                       progress=False, modalities=("text",)))["text"])
    out["runs"].append({"runtime": "onnx", "modality": "text", "decoder": "–", "n": rep.encoded,
                        "batch": forward_batch("text", "onnx", device), "seconds": rep.seconds,
                        "e2e_rate": rep.rate, "encoder": rep.encoder, **m})
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if device.startswith("cuda"):
    out["gpu"] = torch.cuda.get_device_name(0)
    out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
print(json.dumps(out))
"""


def main() -> None:
    from miles.embed import DECODERS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--preset", default="offline", choices=["offline", "paper"])
    ap.add_argument("--batch-size", type=int, default=0, help="videos per forward pass (0: each runtime's own)")
    ap.add_argument("--random-ok", action="store_true", help="use random weights where the real ones are absent")
    ap.add_argument("--decoders", nargs="+", default=["auto"], choices=DECODERS,
                    help="thumbnail decoders to run the image job with, side by side (default auto)")
    ap.add_argument("--runtimes", nargs="+", default=["torch", "onnx"], choices=["torch", "onnx"],
                    help="what runs the encoders, side by side (default both)")
    ap.add_argument("--int8", action="store_true", help="also the opt-in minilm_int8 text encoder (CPU)")
    ap.add_argument("--store", help="an ingested store whose videos to embed instead of synthetic ones (read only)")
    args = ap.parse_args()
    from miles.sources import ingest
    from miles.sources.demo import generate
    from miles.store import Store

    print(f"# embed benchmark · {platform.node()} · {platform.machine()} · {time.strftime('%Y-%m-%d')} · "
          f"device {args.device} · preset {args.preset} · batch {args.batch_size}")
    header = (f"{'videos':>7} {'runtime':>7} {'batch':>5} {'modality':>8} {'decoder':>11} {'encoder':<34} {'weights':>7} {'e2e/s':>7} {'model/s':>8} {'ratio':>6} "
              f"{'drift':>6} {'total s':>8} {'read':>6} {'decode':>7} {'encode':>7} {'write':>6} {'RSS MB':>7}")
    print(header)
    for n in [None] if args.store else args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            if args.store:  # the store's videos alone: every runtime embeds all of them from scratch
                for part in ("videos.lance", "snapshots.lance"):
                    if (Path(args.store) / part).exists():
                        shutil.copytree(Path(args.store) / part, Path(tmp) / "store" / part)
                store = Store.open(Path(tmp) / "store")
                n = store.count("videos")
            else:
                files = generate(Path(tmp) / "src", n_videos=n, seed=0)
                store = Store.open(Path(tmp) / "store")
                ingest([files.csv], store, progress=False)
            res = subprocess.run([sys.executable, "-c", CHILD, str(store.path), args.preset, args.device,
                                  str(args.batch_size), "1" if args.random_ok else "0", ",".join(args.decoders),
                                  ",".join(args.runtimes), *(["int8"] if args.int8 else [])],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                print(res.stderr[-3000:], file=sys.stderr)
                raise SystemExit(res.returncode)
            r = json.loads(res.stdout.strip().splitlines()[-1])
            for x in r["runs"]:
                m, dec, s = x["modality"], x["decoder"], x["seconds"]
                print(f"{n:>7} {x['runtime']:>7} {x['batch']:>5} {m:>8} {dec:>11} {x['encoder'][:34]:<34} {r['weights'][m]:>7} {x['e2e_rate']:>7.0f} "
                      f"{x['model_rate']:>8.0f} {x['e2e_rate'] / x['model_rate']:>6.2f} "
                      f"{x['model_after'] / x['model_before']:>6.2f} {s['total']:>8.1f} "
                      f"{s['read']:>6.1f} {s['decode']:>7.1f} {s['encode']:>7.1f} {s['write']:>6.1f} "
                      f"{r['peak_rss_mb']:>7.0f}")
            if "gpu" in r:
                print(f"#   {r['gpu']}, peak GPU memory {r['peak_gpu_mb']:.0f} MiB")


if __name__ == "__main__":
    main()
