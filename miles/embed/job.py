"""``miles embed``: encode every video once into ``emb_text_<encoder>`` / ``emb_image_<encoder>``.

    report = embed(store, EmbedConfig(preset="offline"))

reader → mapper → writer: background threads read and decode thumbnails while the model runs, the one
mapper (``miles.embed.mapper``, shared with the Ray actors and the queries) turns rows into vectors; a writer
thread commits every ``commit_every`` batches, so a job killed at any moment loses at most the group in
flight, and a rerun encodes only what has no vector for its current content.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, replace

import pyarrow as pa

from miles.embed import DECODERS
from miles.embed.base import Encoder, Modality, resolve_device, table_name
from miles.embed.graph import ensure_graph
from miles.embed.mapper import Mapper, vectors_table
from miles.embed.reader import choose_decoder, fetch, parse_shard, plan, thumbnail_batches
from miles.embed.registry import create_encoder, preset_encoders
from miles.embed.report import StageReport, how
from miles.embed.runtime import IO_BATCH, expected_runtime, forward_batch, runtime_for, text_tokens
from miles.errors import MilesError
from miles.store import Store
from miles.store.embeddings import open_embedding_table
from miles.store.lock import writer_lock
from miles.store.text import TextRecipe

log = logging.getLogger(__name__)


@dataclass
class EmbedConfig:
    preset: str = "offline"
    text_encoder: str | None = None  # overrides the preset's
    image_encoder: str | None = None
    modalities: tuple[Modality, ...] = ("text", "image")
    device: str = "auto"
    batch_size: int | None = None  # videos per forward pass; None: chosen for the runtime (runtime.forward_batch)
    read_batch: int = IO_BATCH  # videos read and decoded together (or the forward batch, if larger)
    commit_every: int = 4  # read batches per commit
    sort_window: int = 16  # texts are sorted by length within windows of this many commit groups
    limit: int | None = None
    shard: str | None = None  # "i/n"
    workers: int | None = None  # image decode threads; None: 1 on CPU, 4 on CUDA
    decoder: str = "auto"  # auto | pil | nvjpeg | torchvision (see miles.embed.reader)
    runtime: str = "auto"  # auto | torch | onnx (see miles.embed.runtime)
    include_description: bool = False
    progress: bool = True
    engine: str = "local"  # local | ray (miles.embed.ray_engine)
    ray_address: str | None = None  # None: a Ray on this machine; "auto": the running cluster
    actors: int = 1
    gpus_per_actor: float = 0.0
    chunk: int = 50_000  # videos per Ray chunk: read, encode, stage, merge


class _Writer:
    """Commits groups of vectors on a background thread; ``close`` waits and re-raises its error."""

    def __init__(self, store: Store, table: str, report: StageReport):
        self.store, self.table, self.report = store, table, report
        self.q: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"writer-{table}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.q.get()) is not None:
            if self.error is None:
                t = time.perf_counter()
                try:
                    self.store.merge(self.table, item, ["video_id"])
                except BaseException as err:  # surfaced in close()
                    self.error = err
                self.report.seconds["write"] += time.perf_counter() - t

    def put(self, table: pa.Table) -> None:
        if self.error is not None:
            raise RuntimeError(f"writing {self.table} failed") from self.error  # internal: a bug, not input
        self.q.put(table)

    def close(self) -> None:
        self.q.put(None)
        self.thread.join()
        if self.error is not None:
            raise RuntimeError(f"writing {self.table} failed") from self.error  # internal: a bug, not input


def embed(store: Store, config: EmbedConfig | None = None,
          encoders: dict[Modality, Encoder] | None = None) -> dict[Modality, StageReport]:
    """Encode what is missing for each modality; returns a report per modality."""
    config = config or EmbedConfig()
    shard = parse_shard(config.shard)
    names = preset_encoders(config.preset)
    if config.text_encoder:
        names["text"] = config.text_encoder
    if config.image_encoder:
        names["image"] = config.image_encoder
    if config.engine not in ("local", "ray"):
        raise MilesError(f"--engine must be local or ray, got {config.engine!r}")
    if store.count("videos") == 0:
        raise MilesError(f"store {store} has no videos: run `miles ingest` (or `miles demo`) first")
    device = resolve_device(config.device)
    reports = {}
    with writer_lock(store, "embed"):
        for modality in config.modalities:
            enc = (encoders or {}).get(modality) or create_encoder(names[modality], device=device)
            given = modality in (encoders or {}) and config.runtime != "onnx"  # a given encoder runs as given
            if config.engine == "ray":  # the actors pick theirs (miles.embed.ray_engine.EncodeActor)
                model, used = enc, expected_runtime(enc, config.runtime, device)
            elif given:
                model, used = enc, enc.own_runtime or "torch"
            else:
                model, used = runtime_for(enc, config.runtime, device)
            fwd = forward_batch(modality, used, model.device, config.batch_size)  # a graph runs on the CPU
            tokens = text_tokens(model.device, config.batch_size) if modality == "text" else None
            rep = (_embed_text(store, enc, config, shard, model, fwd, tokens) if modality == "text"
                   else _embed_images(store, enc, config, shard, model, fwd))
            rep.ran_as(rep.ran or {how(used, model, fwd, tokens)})  # Ray: what its actors said they ran
            reports[modality] = rep
            store.compact(rep.table)  # a fragment a commit, merged once there are many
            log.info(rep.line())
            if device == "cpu" and modality not in (encoders or {}):
                ensure_graph(enc)  # what queries load instead of this model (miles.embed.graph)
    return reports


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="video", disable=None if enabled else True, leave=False)


def text_table(enc: Encoder, recipe: TextRecipe) -> tuple[str, str]:
    """(table name, fingerprint JSON) of a text encoder under a text recipe: the recipe is part of the
    fingerprint, and a table with descriptions has its own name (``emb_text_<encoder>_desc``)."""
    fp = replace(enc.fingerprint, preprocessing={**enc.fingerprint.preprocessing, "text": recipe.name})
    return table_name("text", enc.name) + ("_desc" if recipe.description else ""), fp.to_json()


def _embed_text(store: Store, enc: Encoder, cfg: EmbedConfig, shard, model: Encoder, fwd: int,
                tokens: int | None = None) -> StageReport:
    """``enc`` names the table and its fingerprint; ``model`` (``enc`` or its graph) encodes."""
    name, fingerprint = text_table(enc, TextRecipe(cfg.include_description))
    open_embedding_table(store, name, fingerprint, with_empty_flag=True)
    rep = StageReport(name, enc.fingerprint.describe())
    t0 = time.perf_counter()
    p = plan(store, name, "text", shard, cfg.limit)
    rep.total, rep.already, rep.todo = p.total_videos, p.already, len(p.video_ids)
    if cfg.engine == "ray":
        return _on_ray(store, enc, name, fingerprint, p.video_ids, cfg, rep, t0)
    mapper = Mapper(model, TextRecipe(cfg.include_description), fwd, tokens)
    group = max(fwd, cfg.read_batch) * cfg.commit_every
    window = group * cfg.sort_window
    writer = _Writer(store, name, rep)
    bar = _progress(rep.todo, name, cfg.progress)
    try:
        for start in range(0, rep.todo, window):
            t = time.perf_counter()
            rows = fetch(store, p.video_ids[start:start + window], ["content_hash", *mapper.columns])
            ids, hashes, texts = rows["video_id"].to_pylist(), rows["content_hash"].to_pylist(), mapper.texts(rows)
            rep.seconds["read"] += time.perf_counter() - t
            t = time.perf_counter()
            order = mapper.order(texts)  # the window in token order, committed a group at a time
            rep.seconds["encode"] += time.perf_counter() - t
            for g in range(0, len(order), group):
                idx = order[g:g + group]
                t = time.perf_counter()
                vecs = mapper.text_vectors([texts[i] for i in idx], ordered=True, progress=bar.update)
                rep.seconds["encode"] += time.perf_counter() - t
                empty = [not texts[i].strip() for i in idx]
                rep.empty_text += sum(empty)
                writer.put(vectors_table([ids[i] for i in idx], [hashes[i] for i in idx], vecs, enc.dim, empty))
                rep.encoded += len(idx)
    finally:
        writer.close()
        bar.close()
    rep.seconds["total"] = time.perf_counter() - t0
    return rep


def _on_ray(store: Store, enc: Encoder, name: str, fingerprint: str, ids: list[str], cfg: EmbedConfig,
            rep: StageReport, t0: float) -> StageReport:
    from miles.embed.ray_engine import embed_with_ray

    if ids:
        embed_with_ray(store, enc, name, fingerprint, ids, cfg, rep)
    for vid, err in rep.failed:
        log.warning("thumbnail of %s could not be decoded, no image vector: %s", vid, err)
    rep.seconds["total"] = time.perf_counter() - t0
    return rep


def _decoder(store: Store, ids: list[str], enc: Encoder, cfg: EmbedConfig, cuda: bool, workers: int) -> str:
    """The reader's decoder for this job: ``pil`` or ``torchvision`` (nvJPEG when on CUDA)."""
    choice = cfg.decoder
    if choice not in DECODERS:
        raise MilesError(f"--decoder must be auto, pil, nvjpeg or torchvision, got {choice!r}")
    if choice == "nvjpeg":
        if not cuda:
            raise MilesError("--decoder nvjpeg decodes on the GPU and needs --device cuda; "
                             "use --decoder pil (or torchvision) on the CPU")
        return "torchvision"
    if choice != "auto":
        return choice
    choice, rates = choose_decoder(store, ids, enc.preprocess, enc.device, workers,
                                   batch_size=max(cfg.batch_size or 0, cfg.read_batch))
    if rates:
        log.info("decoder: %s (pil %.0f img/s with %d threads, nvjpeg %.0f img/s on a sample)",
                 "nvjpeg" if choice == "torchvision" else "pil", rates["pil"], workers, rates["nvjpeg"])
    return choice


def _embed_images(store: Store, enc: Encoder, cfg: EmbedConfig, shard, model: Encoder, fwd: int) -> StageReport:
    """Pixels are decoded by ``enc``'s preprocessing (the same for its graph) and encoded by ``model``."""
    name = table_name("image", enc.name)
    open_embedding_table(store, name, enc.fingerprint.to_json())
    rep = StageReport(name, enc.fingerprint.describe())
    t0 = time.perf_counter()
    p = plan(store, name, "image", shard, cfg.limit)
    rep.total, rep.already, rep.todo = p.total_videos, p.already, len(p.video_ids)
    if not rep.todo:
        rep.seconds["total"] = time.perf_counter() - t0
        return rep
    if cfg.engine == "ray":
        return _on_ray(store, enc, name, enc.fingerprint.to_json(), p.video_ids, cfg, rep, t0)
    cuda = enc.device.startswith("cuda")
    workers = cfg.workers if cfg.workers is not None else (4 if cuda else 1)
    decoder = _decoder(store, p.video_ids, enc, cfg, cuda, workers)
    rep.decoder = "nvjpeg" if decoder == "torchvision" and cuda else decoder
    batches = thumbnail_batches(store, p.video_ids, enc.preprocess, max(fwd, cfg.read_batch), workers, pin_memory=cuda,
                                decoder=decoder, device=enc.device)
    mapper = Mapper(model, batch_size=fwd)
    writer = _Writer(store, name, rep)
    bar = _progress(rep.todo, name, cfg.progress)
    pending: list[pa.Table] = []
    try:
        for batch in batches:
            rep.seconds["read"] += batch["read_s"]
            rep.seconds["decode"] += batch["decode_s"]
            rep.failed += batch["failed"]
            t = time.perf_counter()
            vecs = mapper.image_vectors(batch["pixels"])
            rep.seconds["encode"] += time.perf_counter() - t
            pending.append(vectors_table(batch["video_id"], batch["content_hash"], vecs, enc.dim))
            rep.encoded += len(batch["video_id"])
            bar.update(len(batch["video_id"]) + len(batch["failed"]))
            if len(pending) >= cfg.commit_every:
                writer.put(pa.concat_tables(pending))
                pending = []
        if pending:
            writer.put(pa.concat_tables(pending))
    finally:
        writer.close()
        bar.close()
    for vid, err in rep.failed:
        log.warning("thumbnail of %s could not be decoded, no image vector: %s", vid, err)
    rep.seconds["total"] = time.perf_counter() - t0
    return rep
