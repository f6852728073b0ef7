"""The reader side of the embedding job: what is left to encode, and the inputs for it.

``plan`` anti-joins ``videos`` with the embedding table on (video_id, content_hash): a video is to be
encoded when it has no vector yet or its content changed. ``thumbnail_batches`` reads and decodes the
thumbnails of a plan on background threads, batch by batch, while the model runs.
"""

from __future__ import annotations

import io
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from miles.store import Store
from miles.store.text import compose_text  # noqa: F401  (re-exported: the job composes texts)


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
        raise ValueError(f"--shard takes i/n (e.g. 0/4), got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"--shard i/n needs 0 <= i < n, got {text!r}")
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


def thumbnail_batches(store: Store, video_ids: list[str], preprocess, batch_size: int = 64, workers: int = 2,
                      pin_memory: bool = False, prefetch: int = 4) -> Iterator[dict]:
    """Yield batches ``{"video_id", "content_hash", "pixels" (n, 3, H, W), "failed", "read_s", "decode_s"}``.

    A producer thread reads each chunk of the plan from the store (version pinned) and decodes it on a
    pool of ``workers`` threads (Pillow releases the GIL while decoding and resizing), up to ``prefetch``
    batches ahead of the model. Threads, not processes: lance is not fork-safe, and spawned processes
    would re-import the caller's script."""
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import torch

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

    def produce():
        try:
            with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode") as pool:
                for start in range(0, len(video_ids), batch_size):
                    if stop.is_set():
                        return
                    t = time.perf_counter()
                    rows = fetch(store, video_ids[start:start + batch_size], ["content_hash", "thumbnail"], version)
                    read_s = time.perf_counter() - t
                    results = list(pool.map(timed_decode, rows["thumbnail"].to_pylist()))
                    ids, hashes = rows["video_id"].to_pylist(), rows["content_hash"].to_pylist()
                    ok = [i for i, r in enumerate(results) if r[0] is not None]
                    pixels = torch.stack([results[i][0] for i in ok]) if ok else torch.zeros(0, 3, 1, 1)
                    q.put({
                        "video_id": [ids[i] for i in ok],
                        "content_hash": [hashes[i] for i in ok],
                        "pixels": pixels.pin_memory() if pin_memory and ok else pixels,
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
                raise RuntimeError("reading thumbnails failed") from item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)
