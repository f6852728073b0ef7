"""The reader side of the embedding job: what is left to encode, and the inputs for it.

``plan`` anti-joins ``videos`` with the embedding table on (video_id, content_hash): a video is to be
encoded when it has no vector yet or its content changed. ``thumbnail_batches`` reads and decodes the
thumbnails of a plan on background threads, batch by batch, while the model runs.

Decoders (``decoder=``):
- ``pil``: Pillow on a pool of threads, JPEGs in draft mode (DCT scaling), crop and resize in one step.
- ``torchvision``: ``torchvision.io.decode_jpeg`` for a whole batch, then the same centre crop resized with
  ``torch.nn.functional.interpolate`` (antialiased) as tensors. On ``device="cuda"`` this is nvJPEG on the
  GPU and the resize runs there too ("nvjpeg"); on the CPU it is the same code, which the tests compare
  with ``pil``. Non-JPEG thumbnails, and any JPEG the batch decoder refuses, go through Pillow.
- ``auto`` (in the job): ``pil`` on the CPU; on CUDA the faster of ``pil`` and ``nvjpeg`` on a sample of the
  plan's thumbnails (``choose_decoder``), measured at the start of the job and logged.
"""

from __future__ import annotations

import io
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from miles.errors import MilesError
from miles.store import Store


@dataclass
class Plan:
    video_ids: list[str]
    total_videos: int  # videos the modality applies to (with a thumbnail, for images)
    already: int  # of those, already encoded with current content


def in_shard(video_id: str, shard: tuple[int, int] | None) -> bool:
    if shard is None:
        return True
    i, n = shard
    return zlib.crc32(video_id.encode("utf-8")) % n == i


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise MilesError(f"--shard takes i/n (e.g. 0/4), got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise MilesError(f"--shard i/n needs 0 <= i < n, got {text!r}")
    return i, n


def plan(store: Store, table: str, modality: str, shard: tuple[int, int] | None = None,
         limit: int | None = None) -> Plan:
    flt = "thumbnail IS NOT NULL" if modality == "image" else None
    videos = store.read("videos", columns=["video_id", "content_hash"], filter=flt)
    if store.has(table) and store.count(table):
        have = store.read(table, columns=["video_id", "content_hash"])
        joined = videos.join(have, keys=["video_id", "content_hash"], join_type="left anti")
    else:
        joined = videos
    ids = sorted(v for v in joined["video_id"].to_pylist() if in_shard(v, shard))
    if limit is not None:
        ids = ids[:limit]
    return Plan(ids, videos.num_rows, videos.num_rows - joined.num_rows)


def fetch(store: Store, video_ids: list[str], columns: list[str], version: int | None = None) -> pa.Table:
    """Rows of ``videos`` for these ids, in the order given."""
    table = store.dataset("videos", version).to_table(
        columns=["video_id", *columns], filter=pc.field("video_id").isin(pa.array(video_ids, pa.string())))
    order = {v: i for i, v in enumerate(video_ids)}
    idx = sorted(range(table.num_rows), key=lambda i: order[table["video_id"][i].as_py()])
    return table.take(pa.array(idx, pa.int64()))


def decode(data: bytes, preprocess, draft_size: int = 256):
    """JPEG/PNG/WebP bytes → preprocessed tensor. JPEGs decode in draft mode (DCT scaling) straight to
    about the size the model needs, which is several times faster for large covers."""
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    if img.format == "JPEG":
        img.draft("RGB", (draft_size, draft_size))
    return preprocess(img)


def is_jpeg(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff"


def crop_resize(x, preprocess):
    """(3, H, W) uint8 tensor → (3, crop, crop) uint8: the centre crop ``preprocess`` takes (a square of
    ``crop * min(H, W) / resize`` source pixels, rounded to whole pixels), resized with its interpolation,
    antialiased. On x's device."""
    import torch

    _, h, w = x.shape
    side = max(1, min(h, w, round(preprocess.crop * min(h, w) / preprocess.resize)))
    y0, x0 = (h - side) // 2, (w - side) // 2
    region = x[:, y0:y0 + side, x0:x0 + side].unsqueeze(0).float()
    out = torch.nn.functional.interpolate(region, size=(preprocess.crop, preprocess.crop), align_corners=False,
                                          mode=preprocess.interpolation, antialias=True)
    return out.squeeze(0).round_().clamp_(0, 255).to(torch.uint8)


def decode_batch_torch(datas: list[bytes], preprocess, device: str = "cpu") -> list:
    """Decode JPEGs with ``torchvision.io.decode_jpeg`` on ``device`` (nvJPEG on CUDA) and crop/resize them
    there; each result is a (3, crop, crop) uint8 tensor on ``device`` or an exception. Non-JPEGs, and
    JPEGs the batch decoder refuses, are decoded with Pillow and moved to ``device``."""
    import warnings

    import torch
    from torchvision.io import ImageReadMode
    from torchvision.io import decode_jpeg as _decode_jpeg

    def decode_jpeg(*args, **kwargs):
        # torchvision 0.29 deprecates its image codecs in favour of TorchCodec; they still work, and
        # TorchCodec needs system FFmpeg libraries that a plain pip install does not bring.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return _decode_jpeg(*args, **kwargs)

    out: list = [None] * len(datas)
    jpeg = [i for i, d in enumerate(datas) if is_jpeg(d)]
    if jpeg:
        tensors = [torch.frombuffer(bytearray(datas[i]), dtype=torch.uint8) for i in jpeg]
        try:
            decoded = decode_jpeg(tensors, mode=ImageReadMode.RGB, device=device)
        except Exception:  # one bad file fails the whole call: decode one by one, the rest through Pillow
            decoded = []
            for t in tensors:
                try:
                    decoded.append(decode_jpeg(t, mode=ImageReadMode.RGB, device=device))
                except Exception:
                    decoded.append(None)
        for i, img in zip(jpeg, decoded):
            if img is not None:
                out[i] = crop_resize(img, preprocess)
    for i, d in enumerate(datas):
        if out[i] is None:
            try:
                out[i] = decode(d, preprocess).to(device)
            except Exception as err:  # a corrupt image must not stop the job
                out[i] = err
    return out


def thumbnail_batches(store: Store, video_ids: list[str], preprocess, batch_size: int = 64, workers: int = 2,
                      pin_memory: bool = False, prefetch: int = 4, decoder: str = "pil",
                      device: str = "cpu") -> Iterator[dict]:
    """Yield batches ``{"video_id", "content_hash", "pixels" (n, 3, H, W), "failed", "read_s", "decode_s"}``.

    ``decoder="pil"``: pixels are uint8 on the CPU (pinned when ``pin_memory``). ``decoder="torchvision"``:
    pixels are uint8 on ``device`` (on CUDA decoded by nvJPEG on a side stream, ready when yielded).
    A producer thread reads each chunk of the plan from the store (version pinned) and decodes it on a
    pool of ``workers`` threads (Pillow releases the GIL while decoding and resizing), up to ``prefetch``
    batches ahead of the model. Threads, not processes: lance is not fork-safe, and spawned processes
    would re-import the caller's script."""
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import torch

    if decoder not in ("pil", "torchvision"):
        raise MilesError(f"decoder must be 'pil' or 'torchvision', got {decoder!r}")
    version = store.version("videos")
    q: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
    stop = threading.Event()
    done = object()

    def timed_decode(data):
        t = time.perf_counter()
        try:
            return decode(data, preprocess), None, time.perf_counter() - t
        except Exception as e:  # a corrupt image must not stop the job
            return None, f"{type(e).__name__}: {e}", time.perf_counter() - t

    stream = None
    if decoder == "torchvision" and str(device).startswith("cuda"):
        stream = torch.cuda.Stream(device=device)

    def torch_decode(datas):
        t = time.perf_counter()
        if stream is None:
            res = decode_batch_torch(datas, preprocess, device)
        else:
            with torch.cuda.stream(stream):
                res = decode_batch_torch(datas, preprocess, device)
            stream.synchronize()  # blocks this thread only; the model keeps running on its own stream
        per = (time.perf_counter() - t) / max(1, len(datas))
        return [(None, f"{type(r).__name__}: {r}", per) if isinstance(r, Exception) else (r, None, per) for r in res]

    def produce():
        try:
            with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode") as pool:
                for start in range(0, len(video_ids), batch_size):
                    if stop.is_set():
                        return
                    t = time.perf_counter()
                    rows = fetch(store, video_ids[start:start + batch_size], ["content_hash", "thumbnail"], version)
                    read_s = time.perf_counter() - t
                    datas = rows["thumbnail"].to_pylist()
                    if decoder == "torchvision":
                        results = torch_decode(datas)
                    else:
                        results = list(pool.map(timed_decode, datas))
                    ids, hashes = rows["video_id"].to_pylist(), rows["content_hash"].to_pylist()
                    ok = [i for i, r in enumerate(results) if r[0] is not None]
                    if stream is not None and ok:
                        with torch.cuda.stream(stream):
                            pixels = torch.stack([results[i][0] for i in ok])
                        stream.synchronize()
                        pixels.record_stream(torch.cuda.default_stream(device))  # the model's stream
                    else:
                        pixels = torch.stack([results[i][0] for i in ok]) if ok else torch.zeros(0, 3, 1, 1)
                        if pin_memory and ok and pixels.device.type == "cpu":
                            pixels = pixels.pin_memory()
                    q.put({
                        "video_id": [ids[i] for i in ok],
                        "content_hash": [hashes[i] for i in ok],
                        "pixels": pixels,
                        "failed": [(ids[i], r[1]) for i, r in enumerate(results) if r[0] is None],
                        "read_s": read_s,
                        "decode_s": sum(r[2] for r in results),
                    })
        except BaseException as err:  # hand the error to the consumer
            q.put(err)
        finally:
            q.put(done)

    thread = threading.Thread(target=produce, name="thumbnail-reader", daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise RuntimeError("reading thumbnails failed") from item  # internal: a bug, not input
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def choose_decoder(store: Store, video_ids: list[str], preprocess, device: str, workers: int,
                   sample: int = 256, batch_size: int = 64) -> tuple[str, dict[str, float]]:
    """On CUDA, time Pillow (``workers`` threads) and nvJPEG (batched, on ``device``) on up to ``sample``
    thumbnails of the plan and return the faster (``"pil"`` or ``"torchvision"``) with both rates in
    images/s. Off CUDA, or with no JPEG in the sample: ``"pil"`` without measuring."""
    from concurrent.futures import ThreadPoolExecutor

    if not str(device).startswith("cuda") or not video_ids:
        return "pil", {}
    import torch

    datas = [d for d in fetch(store, video_ids[:sample], ["thumbnail"])["thumbnail"].to_pylist() if d]
    if not any(is_jpeg(d) for d in datas):
        return "pil", {}
    decode_batch_torch(datas[:2], preprocess, device)  # nvJPEG's first call initialises its handles
    torch.cuda.synchronize(device)
    rates = {}
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(lambda d: decode(d, preprocess), datas))
    rates["pil"] = len(datas) / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(0, len(datas), batch_size):
        decode_batch_torch(datas[i:i + batch_size], preprocess, device)
    torch.cuda.synchronize(device)
    rates["nvjpeg"] = len(datas) / (time.perf_counter() - t)
    return ("torchvision" if rates["nvjpeg"] > rates["pil"] else "pil"), rates
