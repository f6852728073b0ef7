"""The one rows → vectors mapper: the job, the Ray actors and the queries make the same vector of a row."""

import numpy as np
import pyarrow as pa
import pytest

from miles.embed.job import EmbedConfig, embed
from miles.embed.mapper import Mapper
from miles.embed.ray_engine import EncodeActor
from miles.embed.registry import create_encoder
from miles.queries.encode import query_vectors
from miles.store.text import TextRecipe
from tests.conftest import ingested_store, jpeg_bytes


@pytest.fixture(scope="module")
def minilm():
    return create_encoder("minilm")


def test_vectors_come_back_in_the_rows_order_whatever_the_batches(minilm):
    titles = ["a", "a much longer title with many more tokens than the others #tag", "mid length title", "b c"]
    rows = pa.table({"video_id": list("wxyz"), "content_hash": list("1234"), "title": titles,
                     "hashtags": [[], ["x"], [], ["y", "z"]], "description": [None, "d", None, None]})
    out = Mapper(minilm, batch_size=2)(rows)
    one_by_one = np.stack([minilm.encode_texts([t])[0] for t in Mapper(minilm).texts(rows)])
    got = np.asarray(out["vector"].to_pylist(), np.float32)
    assert out["video_id"].to_pylist() == list("wxyz") and np.abs(got - one_by_one).max() < 1e-5
    assert out["error"].null_count == 4 and out["empty_text"].to_pylist() == [False] * 4


def test_the_recipe_decides_whether_the_description_is_read(minilm):
    rows = pa.table({"video_id": ["v"], "content_hash": ["h"], "title": ["t"], "hashtags": [["a"]],
                     "description": ["the description"]})
    assert Mapper(minilm).texts(rows) == ["t #a"]
    assert Mapper(minilm, TextRecipe(description=True)).texts(rows) == ["t #a the description"]


def test_a_query_is_the_stored_vector_of_the_same_text_under_each_recipe(tmp_path):
    store = ingested_store(tmp_path, videos=12)
    embed(store, EmbedConfig(progress=False, modalities=("text",)))
    embed(store, EmbedConfig(progress=False, modalities=("text",), include_description=True))
    row = store.read("videos", filter="description IS NOT NULL AND description != ''").to_pylist()[0]
    for table in ("emb_text_minilm", "emb_text_minilm_desc"):
        stored = store.read(table, filter=f"video_id = '{row['video_id']}'")["vector"][0].as_py()
        query = query_vectors(store, {"text": table}, title=row["title"], hashtags=row["hashtags"],
                              description=row["description"])["text"]
        assert np.abs(query - np.asarray(stored, np.float32)).max() < 1e-4, table


def test_a_ray_actor_holds_the_jobs_batch_size_recipe_and_runtime(minilm):
    actor = EncodeActor("minilm", minilm.fingerprint.identity(), True, 1, 7)
    assert actor.mapper.batch_size == 7 and actor.mapper.recipe.description
    assert actor.runtime == "onnx" and type(actor.mapper.enc).__name__ == "GraphTextEncoder"  # auto on a CPU
    torch_actor = EncodeActor("minilm", minilm.fingerprint.identity(), False, 1, 7, "torch")
    assert torch_actor.runtime == "torch" and torch_actor.mapper.enc.fingerprint == minilm.fingerprint
    texts = ["Wait for it... ramen hack", "라면 꿀팁 실험해봤습니다"]
    assert np.abs(actor.mapper.text_vectors(texts) - torch_actor.mapper.text_vectors(texts)).max() <= 1e-5


def test_images_decode_once_and_a_bad_one_is_its_own_rows_error():
    enc = create_encoder("efficientnet_lite0")
    rows = pa.table({"video_id": ["a", "b"], "content_hash": ["1", "2"],
                     "thumbnail": [b"not an image", jpeg_bytes(fmt="PNG")]})
    out = Mapper(enc, batch_size=1)(rows)
    assert out["vector"].to_pylist()[0] is None and "Error" in out["error"][0].as_py()
    pixels, errors = Mapper(enc).decode([jpeg_bytes(fmt="PNG")])
    assert errors == [None]
    assert np.abs(np.asarray(out["vector"][1].as_py()) - enc.encode_images(pixels[0][None])[0]).max() < 1e-5


def test_a_token_budget_puts_many_short_titles_and_few_long_ones_in_a_pass(minilm):
    texts = ["ramen"] * 40 + ["a much longer title about a ramen hack that goes on and on " * 3] * 6
    mapper = Mapper(minilm, batch_size=32, tokens=200)
    lengths = minilm.text_lengths(texts)
    batches = mapper.batches(texts)
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))  # each text once
    assert all(len(b) <= 32 and len(b) * max(lengths[i] for i in b) <= 200 for b in batches if len(b) > 1)
    assert max(len(b) for b in batches) == 32 and min(len(b) for b in batches) <= 3
    fixed = Mapper(minilm, batch_size=5).text_vectors(texts)
    assert np.abs(mapper.text_vectors(texts) - fixed).max() < 1e-5  # the same vectors whatever the batches
