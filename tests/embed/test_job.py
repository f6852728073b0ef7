import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from miles.embed.job import EmbedConfig, embed
from miles.embed.reader import in_shard, parse_shard
from miles.embed.registry import create_encoder
from tests.conftest import ingested_store, jpeg_bytes


@pytest.fixture(scope="module")
def encoders():
    return {"text": create_encoder("minilm"), "image": create_encoder("efficientnet_lite0")}


@pytest.fixture
def small(tmp_path):
    return ingested_store(tmp_path, videos=40)


def vectors(store, table):
    t = store.read(table).to_pydict()
    return dict(zip(t["video_id"], zip(t["content_hash"], t["vector"])))


def test_embed_then_rerun_encodes_nothing(small, encoders):
    reps = embed(small, EmbedConfig(progress=False, batch_size=16), encoders)
    n_thumbs = small.read("videos", filter="thumbnail IS NOT NULL", columns=["video_id"]).num_rows
    assert reps["text"].encoded == 40 and reps["image"].encoded == n_thumbs
    text = vectors(small, "emb_text_minilm")
    assert len(text) == 40
    v = np.array([x[1] for x in text.values()], dtype=np.float32)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # The stored vector is the encoder's vector for the composed text.
    row = small.read("videos", filter="video_id = 'demo_000000'").to_pylist()[0]
    from miles.store.text import compose_text

    expected = encoders["text"].encode_texts([compose_text(row["title"], row["hashtags"])])[0]
    assert np.abs(np.array(text["demo_000000"][1]) - expected).max() < 1e-5
    versions = {t: small.version(t) for t in ("emb_text_minilm", "emb_image_efficientnet_lite0")}
    again = embed(small, EmbedConfig(progress=False), encoders)
    assert again["text"].encoded == 0 and again["image"].encoded == 0
    assert again["text"].already == 40
    assert {t: small.version(t) for t in versions} == versions


def test_many_commits_are_merged_into_few_fragments(tmp_path, encoders):
    store = ingested_store(tmp_path, videos=140)
    cfg = EmbedConfig(progress=False, modalities=("text",), batch_size=2, read_batch=2, commit_every=1)
    assert embed(store, cfg, encoders)["text"].encoded == 140  # 70 commits, a fragment each
    assert store.count("emb_text_minilm") == 140 and len(store.dataset("emb_text_minilm").get_fragments()) <= 2


def test_every_text_vector_belongs_to_its_video(small, encoders):
    # Small batches, groups and sort windows: texts are reordered by length within each window of 16 and
    # committed 8 at a time; every stored vector must still be its own video's.
    from miles.store.text import compose_text

    rep = embed(small, EmbedConfig(progress=False, modalities=("text",), batch_size=4, read_batch=4, commit_every=2,
                                   sort_window=2), encoders)["text"]
    assert rep.encoded == 40
    stored = vectors(small, "emb_text_minilm")
    rows = small.read("videos", columns=["video_id", "content_hash", "title", "hashtags"]).to_pylist()
    expected = encoders["text"].encode_texts([compose_text(r["title"], r["hashtags"]) for r in rows])
    for r, e in zip(rows, expected):
        content_hash, vector = stored[r["video_id"]]
        assert content_hash == r["content_hash"]
        assert np.abs(np.array(vector) - e).max() < 1e-4, r["video_id"]


def test_changed_content_is_reencoded(small, encoders):
    embed(small, EmbedConfig(progress=False, modalities=("text",)), encoders)
    row = small.read("videos", filter="video_id = 'demo_000001'").to_pylist()[0]
    row["title"] = "A completely different title"
    row["content_hash"] = "changed"
    small.upsert("videos", [row])
    rep = embed(small, EmbedConfig(progress=False, modalities=("text",)), encoders)["text"]
    assert rep.encoded == 1
    text = vectors(small, "emb_text_minilm")
    assert len(text) == 40 and text["demo_000001"][0] == "changed"


def test_a_description_edit_reencodes_through_ingest(tmp_path, encoders):
    """The content hash covers everything an encoder may read: an edited description (titles, hashtags and
    thumbnails stay as first seen) makes the video's hash change at ingest, and the next embed re-encodes
    exactly that video."""
    import pandas as pd

    from miles.sources import ingest
    from miles.sources.demo import generate
    from miles.store import Store

    files = generate(tmp_path / "src", n_videos=12, seed=3)
    store = Store.open(tmp_path / "s")
    ingest([files.csv], store, progress=False)
    embed(store, EmbedConfig(progress=False, modalities=("text",)), encoders)
    df = pd.read_csv(files.csv)
    first = df["video_id"].iloc[0]
    df.loc[df["video_id"] == first, "description"] = "a brand new description"
    df.to_csv(files.csv.parent / "edited.csv", index=False)  # beside the original: thumbnail paths resolve
    ingest([files.csv.parent / "edited.csv"], store, progress=False)
    rep = embed(store, EmbedConfig(progress=False, modalities=("text",)), encoders)["text"]
    assert rep.encoded == 1 and rep.already == 11
    row = store.read("videos", filter=f"video_id = '{first}'").to_pylist()[0]
    assert vectors(store, "emb_text_minilm")[first][0] == row["content_hash"]


def test_the_text_recipe_is_part_of_the_fingerprint(small, encoders):
    """Titles with descriptions go to a table of their own, whose fingerprint says so; the two recipes
    never share a table."""
    import json

    from miles.store.embeddings import open_embedding_table, table_fingerprint

    embed(small, EmbedConfig(progress=False, modalities=("text",), limit=4), encoders)
    embed(small, EmbedConfig(progress=False, modalities=("text",), limit=4, include_description=True), encoders)
    assert table_fingerprint(small, "emb_text_minilm")["preprocessing"]["text"] == "title+hashtags"
    assert table_fingerprint(small, "emb_text_minilm_desc")["preprocessing"]["text"] == "title+hashtags+description"
    fp = table_fingerprint(small, "emb_text_minilm_desc")
    with pytest.raises(ValueError, match="differ in preprocessing"):
        open_embedding_table(small, "emb_text_minilm", json.dumps(fp), with_empty_flag=True)


def test_corrupt_image_does_not_stop_the_job(small, encoders):
    rows = small.read("videos", filter="thumbnail IS NOT NULL").to_pylist()[:3]
    rows[0]["thumbnail"] = b"\xff\xd8 corrupt jpeg"
    rows[0]["content_hash"] = "corrupt"
    rows[1]["thumbnail"] = jpeg_bytes((1200, 900))
    rows[1]["content_hash"] = "big"
    small.upsert("videos", rows[:2])
    rep = embed(small, EmbedConfig(progress=False, modalities=("image",), batch_size=8), encoders)["image"]
    assert [vid for vid, _ in rep.failed] == [rows[0]["video_id"]]
    assert rep.encoded == rep.todo - 1
    assert rows[0]["video_id"] not in vectors(small, "emb_image_efficientnet_lite0")
    assert "1 failed to decode" in rep.line()


def test_fingerprint_mismatch_is_refused(small, encoders):
    embed(small, EmbedConfig(progress=False, modalities=("text",), limit=2), encoders)
    meta = small.dataset("emb_text_minilm").schema
    assert b"miles.fingerprint" in meta.metadata


    other = create_encoder("minilm")
    from dataclasses import replace

    other.fingerprint = replace(other.fingerprint, weights_sha256="0" * 64)
    with pytest.raises(ValueError, match="holds vectors of minilm .* not of minilm .*weights_sha256"):
        embed(small, EmbedConfig(progress=False, modalities=("text",)), {"text": other})


def test_limit_and_shards(small, encoders):
    assert parse_shard("1/3") == (1, 3)
    with pytest.raises(ValueError, match="--shard"):
        parse_shard("3/3")
    rep = embed(small, EmbedConfig(progress=False, modalities=("text",), limit=5), encoders)["text"]
    assert rep.encoded == 5
    for i in range(3):
        embed(small, EmbedConfig(progress=False, modalities=("text",), shard=f"{i}/3"), encoders)
    ids = small.read("emb_text_minilm", columns=["video_id"])["video_id"].to_pylist()
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 40
    assert sum(in_shard(v, (0, 3)) for v in ids) not in (0, 40)


def test_empty_text_is_flagged(tmp_path, encoders):
    from miles.sources import ingest
    from miles.store import Store

    path = tmp_path / "e.csv"
    path.write_text("video_id,title\na,\nb,🔥🔥🔥\n", encoding="utf-8")
    store = Store.open(tmp_path / "s")
    ingest([path], store, progress=False)
    rep = embed(store, EmbedConfig(progress=False, modalities=("text", "image")), encoders)
    assert rep["text"].empty_text == 1 and rep["image"].total == 0
    flags = dict(zip(*store.read("emb_text_minilm", columns=["video_id", "empty_text"]).to_pydict().values()))
    assert flags == {"a": True, "b": False}


def test_no_videos_is_clear(tmp_path):
    from miles.store import Store

    with pytest.raises(ValueError, match="has no videos"):
        embed(Store.open(tmp_path / "empty"), EmbedConfig(progress=False))


@pytest.mark.slow
def test_sigkill_then_rerun_leaves_exactly_one_vector_each(tmp_path):
    store = ingested_store(tmp_path, videos=240, seed=5)
    cmd = [sys.executable, "-m", "miles.cli", "-q", "embed", "--store", str(store.path), "--modality", "image",
           "--batch-size", "8", "--commit-every", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    table = "emb_image_efficientnet_lite0"
    deadline = time.time() + 240
    killed_at = None
    while time.time() < deadline and proc.poll() is None:
        if store.has(table) and store.count(table) >= 16:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed_at = store.count(table)
            break
        time.sleep(0.05)
    assert killed_at is not None, f"the job ended before it could be killed: {proc.stderr.read()[-2000:]}"
    n_thumbs = store.read("videos", filter="thumbnail IS NOT NULL", columns=["video_id"]).num_rows
    assert killed_at < n_thumbs
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    ids = store.read(table, columns=["video_id"])["video_id"].to_pylist()
    assert len(ids) == len(set(ids)) == n_thumbs
