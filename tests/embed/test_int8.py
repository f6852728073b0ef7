"""The ``minilm_int8`` text encoder: MiniLM's graph with 8-bit weights, its own fingerprint and table, built
once and checked on every load like every graph, loaded without torch, and filled by the job like any
encoder, with a draft's vector equal to the stored one."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from miles.embed.graph import _key, cache_dir
from miles.embed.int8 import MINILM, NAME, fingerprint
from miles.embed.job import EmbedConfig, embed
from miles.embed.registry import create_encoder, list_encoders
from miles.store.embeddings import table_fingerprint, table_name
from miles.store.text import compose_text
from tests.conftest import ingested_store

TITLES = ["how to cook rice in 60 seconds", "고양이 영상 모음 #shorts", "猫の動画まとめ", "Wait for it… 🔥🔥",
          "Stop doing ab workouts like this", "ramen hack", ""]


@pytest.fixture(scope="module")
def encoders():
    return create_encoder(NAME), create_encoder("minilm")


def test_its_own_encoder_with_minilms_identity_and_the_recipe(encoders):
    int8, minilm = encoders
    assert NAME in list_encoders("text") and int8.own_runtime == "onnx"
    mine = json.loads(minilm.fingerprint.to_json())
    assert {k: mine[k] for k in MINILM} == MINILM  # the recorded MiniLM is this machine's
    fp = int8.fingerprint
    assert fp.name == NAME and table_name("text", fp.name) == "emb_text_minilm_int8"
    assert fp.weights_sha256 == minilm.fingerprint.weights_sha256 and fp.dim == 384
    assert "int8" in fp.preprocessing["quantisation"] and fp.identity() != minilm.fingerprint.identity()


def test_vectors_near_minilms_but_not_minilms(encoders):
    int8, minilm = encoders
    a, b = int8.encode_texts(TITLES), minilm.encode_texts(TITLES)
    cos = (a * b).sum(1)
    assert cos.min() >= 0.95, cos
    assert np.abs(a - b).max() > 1e-3  # really quantised: a float graph would agree to 1e-6
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    graph = cache_dir() / f"{_key(fingerprint())}.onnx"
    assert graph.stat().st_size < 65e6  # the float graph: 90 MB; its word embeddings (47 MB) stay float


def test_a_title_alone_gets_its_batch_vector_in_the_job_and_in_a_query(encoders):
    """Its activations are quantised by each pass's range: in a batch a title would move with its batch mates,
    so every path (the encoder, the graph a query loads by the table's fingerprint) runs one title a pass."""
    from miles.embed.graph import load_graph

    int8, _ = encoders
    query = load_graph(fingerprint())  # what queries/encode.py loads for the table
    alone = np.stack([int8.encode_texts([t])[0] for t in TITLES])
    for enc in (int8, query):
        assert np.abs(enc.encode_texts(TITLES) - alone).max() <= 1e-6


def test_loads_in_a_fresh_process_without_torch(encoders):
    int8, _ = encoders
    code = ("import json, sys; from miles.embed.registry import create_encoder; "
            f"v = create_encoder({NAME!r}).encode_texts({TITLES!r}); "
            "print(json.dumps({'torch': 'torch' in sys.modules, 'v': v.tolist()}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["torch"] is False
    assert np.abs(np.asarray(got["v"], np.float32) - int8.encode_texts(TITLES)).max() <= 1e-6


def test_a_changed_graph_is_removed_and_built_again_the_same(encoders, caplog):
    int8, _ = encoders
    want = int8.encode_texts(TITLES)
    graph = cache_dir() / f"{_key(fingerprint())}.onnx"
    with open(graph, "ab") as f:
        f.write(b"\0")
    again = create_encoder(NAME)
    assert "changed since it was exported" in caplog.text
    assert np.abs(again.encode_texts(TITLES) - want).max() <= 1e-6  # the build is deterministic


def test_the_job_fills_its_table_and_a_draft_matches_the_stored_title(tmp_path, encoders):
    from miles.queries.encode import query_vectors

    store = ingested_store(tmp_path, videos=12)
    rep = embed(store, EmbedConfig(text_encoder=NAME, modalities=("text",), runtime="torch", progress=False))
    assert rep["text"].table == "emb_text_minilm_int8" and rep["text"].runtime == "onnx"
    assert table_fingerprint(store, "emb_text_minilm_int8")["name"] == NAME
    t = store.read("emb_text_minilm_int8").to_pydict()
    rows = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    first = rows[t["video_id"][0]]
    assert compose_text(first["title"], first["hashtags"])
    q = query_vectors(store, {"text": "emb_text_minilm_int8"}, title=first["title"], hashtags=first["hashtags"])
    assert np.abs(q["text"] - np.asarray(t["vector"][0], np.float32)).max() <= 1e-5
