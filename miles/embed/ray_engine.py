"""``miles embed --engine ray``: the same embedding job with the encoding on a Ray Data actor pool.

    miles embed --store my-store --engine ray --address auto --actors 8 --gpus-per-actor 1 --chunk 50000

The driver plans as the local job does (the anti-join on ``video_id`` and ``content_hash``) and walks the
plan in chunks. Each chunk is read with ``lance_ray.read_lance`` from the version of ``videos`` pinned at
the start, encoded by a pool of actors that each build the encoder by name and check its fingerprint
against the driver's, and written with ``lance_ray.write_lance`` to a staging table that the driver merges
into ``emb_*`` (``Store.merge`` on ``video_id``, the table opened with the same fingerprint rules as the
local job) and then deletes. A kill loses at most the chunk in flight; a rerun plans again and resumes.
Each actor holds the one mapper (``miles.embed.mapper``) that the local job uses: the same text recipe,
token ordering and batch size, so only where the work runs differs. An actor picks its device from torch
(CUDA when present), not from what Ray assigned, and its runtime as the local job does
(``miles.embed.runtime.runtime_for``: on a CPU the encoder's verified graph in ONNX Runtime under the
default ``--runtime auto``); on the CPU it uses the node's cores shared among the actors (Ray would leave a
1-CPU actor one thread). Each actor sends how it ran (runtime, batch, passes at once) with its rows, and the
stage's report says that, not what the driver expected.

Pitfalls checked on ray 2.60 / lance-ray 0.5 / pylance 14: Ray's own ``Dataset.write_lance`` fails against
this pylance and ``ray.data.read_lance(filter=...)`` ignored its filter, so both go through ``lance_ray``;
on two CPUs a pool of two actors starves the reader, so ``--actors`` defaults to one.
"""

from __future__ import annotations

import logging
import time
import uuid

import pyarrow as pa

from miles.cluster import start_ray
from miles.embed.base import Encoder
from miles.embed.mapper import Mapper
from miles.embed.report import how
from miles.embed.runtime import forward_batch, runtime_for, text_tokens
from miles.errors import MilesError
from miles.store import Store
from miles.store.text import TextRecipe

log = logging.getLogger(__name__)


def sql_in(column: str, values: list[str]) -> str:
    """A Lance filter ``column IN ('a', 'b')`` with each value quoted (a quote inside is doubled)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


class EncodeActor:
    """One mapper per actor: the encoder built by name on the device torch sees, checked against the
    driver's, run by the job's runtime (``miles.embed.runtime``: its verified graph in ONNX Runtime on a CPU
    under ``auto``), with the job's text recipe and batch size."""

    def __init__(self, name: str, fingerprint_identity: tuple, include_description: bool, actors: int = 1,
                 batch_size: int | None = None, runtime: str = "auto"):
        import os

        import torch

        from miles.embed.registry import create_encoder

        device = "cuda" if torch.cuda.is_available() else "cpu"
        threads = max(1, (os.cpu_count() or 1) // actors)
        if device == "cpu":  # Ray sets OMP_NUM_THREADS=1 for a 1-CPU actor: half the speed on two cores
            torch.set_num_threads(threads)
        enc = create_encoder(name, device=device)
        if enc.fingerprint.identity() != fingerprint_identity:
            raise MilesError(f"this worker's {name} is not the driver's (weights or preprocessing differ): "
                               "install the same versions everywhere")
        model, self.runtime = runtime_for(enc, runtime, device, threads)
        fwd = forward_batch(enc.modality, self.runtime, model.device, batch_size)
        tokens = text_tokens(model.device, batch_size) if enc.modality == "text" else None
        self.mapper = Mapper(model, TextRecipe(include_description), fwd, tokens)
        self.how = how(self.runtime, model, fwd, tokens)  # sent with every row: the driver reports it

    def __call__(self, batch: pa.Table) -> pa.Table:
        out = self.mapper(batch)
        return out.append_column("how", pa.array([self.how] * out.num_rows, pa.string()))


def embed_with_ray(store: Store, enc: Encoder, table: str, fingerprint: str, ids: list[str], cfg, rep) -> None:
    """Encode the planned ``ids`` into ``table`` chunk by chunk on Ray (``cfg``: an ``EmbedConfig``),
    adding counts and times to ``rep``."""
    try:
        import lance_ray
        import ray  # noqa: F401
        from ray.data import ActorPoolStrategy
    except ImportError as err:
        raise MilesError("--engine ray needs Ray Data and lance-ray: pip install 'miles[ray]'") from err
    from miles.store.embeddings import open_embedding_table

    open_embedding_table(store, table, fingerprint, with_empty_flag=enc.modality == "text")
    start_ray(cfg.ray_address, cfg.gpus_per_actor)
    from ray.data import DataContext

    DataContext.get_current().enable_progress_bars = cfg.progress
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # the job logs each chunk itself
    version = store.version("videos")
    columns = ["video_id", "content_hash", *Mapper(enc).columns]
    for start in range(0, len(ids), cfg.chunk):
        chunk = ids[start:start + cfg.chunk]
        t = time.perf_counter()
        ds = lance_ray.read_lance(store.location.table_uri("videos"), columns=columns,
                                  filter=sql_in("video_id", chunk), dataset_options={"version": version},
                                  storage_options=store.location.storage_options)
        batch = max(cfg.batch_size or 0, cfg.read_batch) * cfg.commit_every * (cfg.sort_window if enc.modality == "text"
                                                                          else 1)
        ds = ds.map_batches(EncodeActor, fn_constructor_args=(enc.name, enc.fingerprint.identity(),
                                                              cfg.include_description, cfg.actors,
                                                              cfg.batch_size, cfg.runtime),
                            compute=ActorPoolStrategy(size=cfg.actors), num_gpus=cfg.gpus_per_actor or None,
                            batch_size=batch, batch_format="pyarrow")  # titles sorted by tokens as locally
        staging = f".staging-{table}-{uuid.uuid4().hex[:8]}"
        try:
            lance_ray.write_lance(ds, store.location.table_uri(staging), mode="create",
                                  storage_options=store.location.storage_options)
            encode_s = time.perf_counter() - t
            rep.seconds["encode"] += encode_s
            t = time.perf_counter()
            import lance

            out = lance.dataset(store.location.table_uri(staging),
                                storage_options=store.location.storage_options).to_table()
            failed = out.filter(out["error"].is_valid())
            rep.failed += list(zip(failed["video_id"].to_pylist(), failed["error"].to_pylist()))
            rep.ran.update(pa.compute.unique(out["how"]).to_pylist())  # how the actors ran, not how we hoped
            done = out.filter(out["error"].is_null()).drop_columns(["error", "how"])
            if done.num_rows:
                store.merge(table, done.cast(store.dataset(table).schema), ["video_id"])
            rep.encoded += done.num_rows
            if "empty_text" in done.column_names:
                rep.empty_text += int(pa.compute.sum(done["empty_text"]).as_py() or 0)
            merge_s = time.perf_counter() - t
            rep.seconds["write"] += merge_s
        finally:
            store.location.remove(f"{staging}.lance")
        log.info("%s: chunk of %d merged (%d/%d): read, encode and stage %.1f s, merge %.1f s", table, len(chunk),
                 start + len(chunk), len(ids), encode_s, merge_s)
