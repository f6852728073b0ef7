import json

import numpy as np
import pandas as pd
import pytest

from miles.heads.labels import LabelSpec
from miles.queries import sql
from miles.queries.similar import evidence_table, similar
from miles.store.index import read_vectors


def test_similar_is_fair_evidence(demo_store):
    videos = demo_store.read("videos", columns=["video_id", "published_at"]).to_pandas().set_index("video_id")
    late = videos.sort_values("published_at").index[-40:]
    for vid in late[::8]:
        rows = similar(demo_store, video_id=vid, k=5)
        pub = videos.loc[vid, "published_at"]
        assert all(r["video_id"] != vid for r in rows)
        assert all(pd.Timestamp(r["published_at"]) < pub for r in rows)
        sims = [r["similarity"] for r in rows]
        assert sims == sorted(sims, reverse=True) and all(s < 0.98 for s in sims)
        assert len({r["video_id"] for r in rows}) == len(rows)


def test_similar_by_title_and_filters(demo_store):
    rows = similar(demo_store, title="Wait for it... crispy tofu", k=3, modality="text", viral_only=True)
    assert 0 < len(rows) <= 3 and all(r["viral"] for r in rows)
    assert set(rows[0]) == {"video_id", "title", "creator_id", "published_at", "views", "velocity",
                            "relative_to_creator", "viral", "similarity"}
    assert similar(demo_store, title="anything", before="2000-01-01T00:00:00Z") == []
    with pytest.raises(ValueError, match="modality"):
        similar(demo_store, title="x", modality="audio")


def test_text_neighbours_equal_brute_force(demo_store):
    """With no filter biting (k small, all evidence allowed), the ranking is numpy's cosine ranking."""
    vid = demo_store.read("videos", columns=["video_id", "published_at"]).to_pandas().sort_values(
        "published_at")["video_id"].iloc[-1]
    rows = similar(demo_store, video_id=vid, k=5, modality="text")
    ids, vecs = read_vectors(demo_store, "emb_text_minilm")
    q = vecs[list(ids).index(vid)]
    pub = demo_store.read("videos", filter=f"video_id = '{vid}'").to_pylist()[0]["published_at"]
    allowed = set(evidence_table(demo_store, pub, LabelSpec(age_hours=168.0)).index)
    order = [ids[i] for i in np.argsort(-(vecs @ q)) if ids[i] in allowed and ids[i] != vid and (vecs[i] @ q) < 0.98]
    assert [r["video_id"] for r in rows] == order[: len(rows)]


def test_sql_cosine_equals_numpy(demo_store):
    got = sql(demo_store, "SELECT e.video_id, array_cosine_similarity(e.vector, q.vector) AS sim "
                          "FROM emb_text_minilm e, (SELECT vector FROM emb_text_minilm ORDER BY video_id LIMIT 1) q "
                          "ORDER BY e.video_id").to_pydict()
    ids, vecs = read_vectors(demo_store, "emb_text_minilm")
    order = np.argsort(ids)
    expected = vecs[order] @ vecs[order][0]
    assert list(got["video_id"]) == list(ids[order])
    np.testing.assert_allclose(got["sim"], expected, atol=1e-5)


def test_convenience_views(demo_store):
    rows = sql(demo_store, "SELECT video_id, views, velocity, viral, relative_to_creator FROM videos_latest").to_pylist()
    assert len(rows) == demo_store.count("videos")
    assert 0.15 < np.mean([r["viral"] for r in rows if r["viral"] is not None]) < 0.35
    n = sql(demo_store, "SELECT count(*) AS n FROM emb_text_minilm_videos WHERE current").to_pylist()[0]["n"]
    assert n == demo_store.count("emb_text_minilm")


def test_similar_cli_json(demo_store):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "miles.cli", "-q", "similar", "--store", str(demo_store.path),
                        "--title", "POV: you finally tried sourdough", "-k", "2", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 2


def test_evidence_views_are_as_of_the_query_time(demo_store):
    """In a backtest, a neighbour shows the views observed by the query time, never a later snapshot."""
    snaps = demo_store.read("snapshots").to_pandas()
    videos = demo_store.read("videos", columns=["video_id", "published_at"]).to_pandas().set_index("video_id")
    cutoff = videos["published_at"].sort_values().iloc[200] + pd.Timedelta(days=10)
    ev = evidence_table(demo_store, cutoff, LabelSpec())
    assert len(ev)
    seen = snaps[snaps["observed_at"] <= cutoff].sort_values("observed_at").groupby("video_id")["views"].last()
    assert (ev["views"] == seen.reindex(ev.index)).all()
    assert (ev["views"] <= snaps.groupby("video_id")["views"].max().reindex(ev.index)).all()


def test_a_read_never_writes_the_index(demo_store, tmp_path):
    """With a stale index, similar searches exactly in memory and leaves the index files alone."""
    import shutil

    from miles.store import Store

    copy = Store(tmp_path / "copy")
    shutil.copytree(demo_store.path, copy.path, symlinks=True)
    meta = copy.path / "indexes" / "emb_text_minilm.json"
    data = json.loads(meta.read_text())
    data["lance_version"] = -1
    meta.write_text(json.dumps(data))
    before = {p.name: p.stat().st_mtime_ns for p in (copy.path / "indexes").iterdir()}
    rows = similar(copy, title="Wait for it... crispy tofu", k=3, modality="text")
    assert rows and {p.name: p.stat().st_mtime_ns for p in (copy.path / "indexes").iterdir()} == before
    assert rows == similar(demo_store, title="Wait for it... crispy tofu", k=3, modality="text")


def test_no_earlier_evidence_is_an_empty_list(demo_store):
    assert similar(demo_store, title="anything", viral_only=True, before="2001-01-01T00:00:00Z") == []
