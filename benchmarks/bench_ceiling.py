"""How close each runtime runs to what this CPU can do: the ceilings behind the embedding job's speed.

    python benchmarks/bench_ceiling.py                      # 2,000 synthetic demo videos
    python benchmarks/bench_ceiling.py --store bili-store   # an ingested store's own titles and covers (read only)

Three measurements on the same videos, in one process, nothing written:

- **peak**: the CPU's float32 matrix-multiply rate (torch, 2048×2048, the cores this process may use, best of
  five), the most any runtime can get from float32 weights.
- **titles**: each runtime's model alone through the job's mapper (its batches by tokens, its passes), and
  the work it does: multiply-adds counted with hooks on the model's linear layers (per token) plus attention
  (per sequence, from the padded lengths of the mapper's own batches). GFLOP/s over the peak says how much
  room is left; peak over torch's GFLOP/s is the largest speed-up over torch that float32 can give.
- **thumbnails**: each runtime's model alone on pre-decoded pixels, the same count from hooks on the
  convolutions, and the CPU time of decoding one cover as the job does (JPEG + Pillow's bicubic crop-resize,
  one thread). The model's CPU per cover is what the process spent in its timed runs; when decoding shares
  the same cores, the job can keep at most model / (model + decode) of the model's rate.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path


def best(fn, rounds: int = 3) -> tuple[float, float]:
    """(best wall seconds, process CPU seconds of that round) of ``fn`` after one untimed call."""
    fn()
    out = (float("inf"), 0.0)
    for _ in range(rounds):
        c, t = time.process_time(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        out = min(out, (wall, cpu))
    return out


def peak_gflops(threads: int) -> float:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    wall, _ = best(lambda: a @ b, rounds=5)
    torch.set_num_threads(before)
    return 2 * 2048 ** 3 / wall / 1e9


def layer_macs(model, *inputs) -> int:
    """Multiply-adds of ``model``'s convolutions and linear layers for one forward pass of ``inputs``."""
    import torch

    total = [0]

    def hook(mod, args, out):
        if isinstance(mod, torch.nn.Conv2d):
            kh, kw = mod.kernel_size
            total[0] += out.numel() * (mod.in_channels // mod.groups) * kh * kw
        else:
            total[0] += out.numel() * mod.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model(*inputs)
    for h in handles:
        h.remove()
    return total[0]


def title_rows(store, names: list[str]) -> list[tuple]:
    import torch

    from miles.embed.mapper import Mapper
    from miles.embed.registry import create_encoder
    from miles.embed.runtime import forward_batch, runtime_for, text_tokens

    base = create_encoder("minilm", device="cpu")
    job = Mapper(base)  # the job's own text of each video
    texts = job.texts(store.read("videos", columns=job.columns))
    cfg = base.model.config
    per_token = layer_macs(base.model, torch.ones(1, 8, dtype=torch.long)) / 8  # linear layers, per token
    lengths = base.text_lengths(texts)
    out = []
    for name in names:
        enc, used = runtime_for(base, name, "cpu")
        mapper = Mapper(enc, batch_size=forward_batch("text", used, "cpu"), tokens=text_tokens("cpu"))
        macs = 0
        for b in mapper.batches(texts):
            longest = max(lengths[i] for i in b)  # each pass pads to its longest title
            macs += len(b) * longest * per_token + len(b) * cfg.num_hidden_layers * 2 * longest ** 2 * cfg.hidden_size
        wall, cpu = best(lambda m=mapper: m.text_vectors(texts))
        out.append(("titles", used, len(texts), len(texts) / wall, 2 * macs / wall / 1e9, cpu / len(texts) * 1e3, None))
    return out


def thumbnail_rows(store, names: list[str], limit: int) -> list[tuple]:
    import torch

    from miles.embed.mapper import Mapper
    from miles.embed.reader import decode
    from miles.embed.registry import create_encoder
    from miles.embed.runtime import forward_batch, runtime_for

    datas = [r["thumbnail"] for r in store.read("videos", columns=["thumbnail"], filter="thumbnail IS NOT NULL").to_pylist()[:limit]]
    base = create_encoder("efficientnet_lite0", device="cpu")
    crop = base.preprocess.crop
    per_image = layer_macs(base.model, torch.zeros(1, 3, crop, crop))
    c = time.thread_time()
    pixels = [decode(d, base.preprocess) for d in datas]  # one thread, as the job's decode thread
    decode_ms = (time.thread_time() - c) / len(datas) * 1e3
    stacked = torch.stack(pixels)
    out = []
    for name in names:
        enc, used = runtime_for(base, name, "cpu")
        mapper = Mapper(enc, batch_size=forward_batch("image", used, "cpu"))
        wall, cpu = best(lambda m=mapper: m.image_vectors(stacked))  # a graph reads the tensor as an array
        out.append(("thumbnails", used, len(datas), len(datas) / wall, 2 * per_image * len(datas) / wall / 1e9,
                    cpu / len(datas) * 1e3, decode_ms))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="an ingested store whose titles and covers to use (read only)")
    ap.add_argument("--videos", type=int, default=2000, help="synthetic demo videos when no --store (default 2000)")
    ap.add_argument("--covers", type=int, default=512, help="thumbnails to time (default 512)")
    ap.add_argument("--runtimes", nargs="+", default=["torch", "onnx"], choices=["torch", "onnx"])
    args = ap.parse_args()
    from miles.embed.runtime import cores
    from miles.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        if args.store:
            store = Store.open(args.store)
        else:
            from miles.sources import ingest
            from miles.sources.demo import generate

            store = Store.open(Path(tmp) / "store")
            ingest([generate(Path(tmp) / "src", n_videos=args.videos, seed=0).csv], store, progress=False)
        n = cores()
        peak, peak1 = peak_gflops(n), peak_gflops(1)
        rows = title_rows(store, args.runtimes) + thumbnail_rows(store, args.runtimes, args.covers)
    print(f"# ceiling benchmark · {platform.node()} · {platform.machine()} · {time.strftime('%Y-%m-%d')} · "
          f"{n} cores · float32 matmul peak {peak:.0f} GFLOP/s ({peak1:.0f} on one core)")
    print(f"{'modality':>10} {'runtime':>7} {'items':>6} {'items/s':>8} {'GFLOP/s':>8} {'of peak':>8} "
          f"{'x torch':>8} {'peak/torch':>10} {'model CPU ms':>12} {'decode CPU ms':>13} {'e2e/model max':>13}")
    torch_rate = {m: r for m, rt, _, r, *_ in rows if rt == "torch"}
    torch_gf = {m: g for m, rt, _, _, g, *_ in rows if rt == "torch"}
    for m, rt, items, rate, gf, model_ms, decode_ms in rows:
        vs = f"{rate / torch_rate[m]:.2f}" if m in torch_rate else "–"
        room = f"{peak / torch_gf[m]:.2f}" if m in torch_gf else "–"
        dec = f"{decode_ms:.2f}" if decode_ms is not None else "–"
        cap = f"{model_ms / (model_ms + decode_ms):.2f}" if decode_ms is not None else "–"
        print(f"{m:>10} {rt:>7} {items:>6} {rate:>8.0f} {gf:>8.0f} {gf / peak:>8.0%} {vs:>8} {room:>10} "
              f"{model_ms:>12.2f} {dec:>13} {cap:>13}")


if __name__ == "__main__":
    main()
