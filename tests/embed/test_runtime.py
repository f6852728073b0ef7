"""The embedding job's runtimes: the verified graph in ONNX Runtime gives the model's vectors (within 1e-5)
for titles of several scripts and for real JPEG thumbnails, under the model's fingerprint, and a table
filled by both runtimes across resumes is one consistent table."""

import json

import numpy as np
import pyarrow as pa
import pytest

from miles.embed.job import EmbedConfig, embed
from miles.errors import MilesError
from miles.store import Store

TITLES = ["Wait for it... ramen hack 🍜", "ラーメンの裏技を試してみた", "라면 꿀팁 실험해봤습니다", "我试了网上爆火的泡面做法",
          "मैंने वायरल रेमन हैक आज़माया", "Probé el truco viral del ramen", "🔥🔥🔥", "#food #easyrecipe"]


def _store(path, ingested):
    store = Store.open(path)
    rows = ingested.read("videos").to_pylist()[:24]
    for i, r in enumerate(rows):
        r["title"] = TITLES[i % len(TITLES)] + f" {i}"
    store.upsert("videos", pa.Table.from_pylist(rows, schema=ingested.read("videos").schema))
    return store


def _vectors(store, table):
    t = store.read(table, columns=["video_id", "vector"]).to_pandas().set_index("video_id").sort_index()
    return t.index.tolist(), np.stack(t["vector"].to_numpy())


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from tests.conftest import ingested_store

    return ingested_store(tmp_path_factory.mktemp("rt"), videos=24)


def test_onnx_gives_the_models_vectors_under_the_models_fingerprint(ingested, tmp_path):
    a, b = _store(tmp_path / "torch", ingested), _store(tmp_path / "onnx", ingested)
    ra = embed(a, EmbedConfig(runtime="torch", progress=False))
    rb = embed(b, EmbedConfig(runtime="onnx", progress=False))
    assert {r.runtime for r in ra.values()} == {"torch"} and {r.runtime for r in rb.values()} == {"onnx"}
    for table in ("emb_text_minilm", "emb_image_efficientnet_lite0"):
        ids_a, va = _vectors(a, table)
        ids_b, vb = _vectors(b, table)
        assert ids_a == ids_b and len(ids_a) >= 20
        assert np.abs(va - vb).max() <= 1e-5, (table, np.abs(va - vb).max())
        assert a.metadata(table) == b.metadata(table)  # the same fingerprint: the same model
    assert "runtime onnx" in rb["image"].line()
    from miles.embed.runtime import cores

    assert (f"{cores()} at once" in rb["image"].line()) == (cores() > 1)  # one pass per core


def test_a_table_filled_by_both_runtimes_across_resumes_is_one_table(ingested, tmp_path):
    store = _store(tmp_path / "mixed", ingested)
    embed(store, EmbedConfig(runtime="onnx", limit=10, progress=False))
    before = {t: store.metadata(t) for t in ("emb_text_minilm", "emb_image_efficientnet_lite0")}
    embed(store, EmbedConfig(runtime="torch", progress=False))
    whole = _store(tmp_path / "whole", ingested)
    embed(whole, EmbedConfig(runtime="torch", progress=False))
    for table, meta in before.items():
        assert store.metadata(table) == meta
        ids, v = _vectors(store, table)
        ids_w, w = _vectors(whole, table)
        assert ids == ids_w and np.abs(v - w).max() <= 1e-5


def test_a_bad_runtime_is_refused():
    from miles.embed.runtime import runtime_for

    with pytest.raises(MilesError, match="auto, torch or onnx"):
        runtime_for(object(), "tensorrt", "cpu")
    assert json.dumps(list(EmbedConfig().__dict__)).count("runtime") == 1


def test_real_covers_and_titles_give_the_same_vectors():
    """Real JPEG covers and Chinese titles (``../shared/data``, skipped without it): the job's path — the
    model's own preprocessing, the graph's encoding — against the model's."""
    import csv

    from miles.embed.mapper import Mapper
    from miles.embed.reader import decode
    from miles.embed.registry import create_encoder
    from miles.embed.runtime import runtime_for
    from tests.conftest import shared

    folder = shared("bilibili-covers-dev")
    covers = sorted(p for p in (folder / "covers").iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))[:16]
    enc = create_encoder("efficientnet_lite0", device="cpu")
    model, used = runtime_for(enc, "onnx", "cpu")
    pixels = [decode(p.read_bytes(), enc.preprocess) for p in covers]
    assert used == "onnx" and len(pixels) == 16
    assert np.abs(Mapper(enc).image_vectors(pixels) - Mapper(model).image_vectors(pixels)).max() <= 1e-5
    with open(folder / "videos.csv", encoding="utf-8") as f:
        titles = [r["title"] for r, _ in zip(csv.DictReader(f), range(64)) if r.get("title")]
    text = create_encoder("minilm", device="cpu")
    graph, _ = runtime_for(text, "onnx", "cpu")
    assert len(titles) >= 32
    assert np.abs(Mapper(text).text_vectors(titles) - Mapper(graph).text_vectors(titles)).max() <= 1e-5


def test_the_graph_runs_one_single_threaded_pass_per_core_with_the_same_vectors():
    """ONNX Runtime in the job: as many concurrent passes as cores, each on one thread (``in_lanes``); the
    passes run on their own threads and the vectors are those of one pass after another."""
    import threading

    from miles.embed.mapper import Mapper
    from miles.embed.registry import create_encoder
    from miles.embed.runtime import runtime_for

    enc = create_encoder("minilm")
    two, used = runtime_for(enc, "auto", "cpu", threads=2)
    one, _ = runtime_for(enc, "auto", "cpu", threads=1)
    assert used == "onnx" and (two.lanes, two.threads, one.lanes, one.threads) == (2, 1, 1, 1)
    seen, encode = set(), two.encode_texts

    def spy(texts):
        seen.add(threading.current_thread().name)
        return encode(texts)

    two.encode_texts = spy
    texts = [f"{t} {i}" for i, t in enumerate(TITLES * 6)]
    a, b = Mapper(two, batch_size=4).text_vectors(texts), Mapper(one, batch_size=4).text_vectors(texts)
    assert len(seen) == 2 and all(name.startswith("lane") for name in seen), seen
    assert np.abs(a - b).max() <= 1e-6
    assert np.abs(a - enc.encode_texts(texts)).max() <= 1e-5


def test_a_batch_of_thumbnails_is_split_over_the_passes_whatever_the_batch_size():
    """Each pass is single-threaded, so one read batch at a forward batch of 64 (``--batch-size 64``, or the
    GPU's size) must still be split over the cores' passes, not run on one core."""
    import threading

    import torch

    from miles.embed.mapper import Mapper
    from miles.embed.registry import create_encoder
    from miles.embed.runtime import runtime_for

    enc = create_encoder("efficientnet_lite0")
    graph, _ = runtime_for(enc, "auto", "cpu", threads=2)
    seen, encode = [], graph.encode_images

    def spy(pixels):
        seen.append((threading.current_thread().name, len(pixels)))
        return encode(pixels)

    graph.encode_images = spy
    pixels = np.random.default_rng(0).integers(0, 256, size=(6, 3, 224, 224), dtype=np.uint8)
    out = Mapper(graph, batch_size=64).image_vectors(pixels)
    assert sorted(n for _, n in seen) == [3, 3] and len({t for t, _ in seen}) == 2, seen
    assert np.abs(out - enc.encode_images(torch.from_numpy(pixels))).max() <= 1e-5
