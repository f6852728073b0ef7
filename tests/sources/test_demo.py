import hashlib

from miles.sources.demo import generate


def digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_demo_is_deterministic(tmp_path):
    a = generate(tmp_path / "a", n_videos=40, seed=3)
    b = generate(tmp_path / "b", n_videos=40, seed=3)
    generate(tmp_path / "c", n_videos=40, seed=4)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert a.videos == 40 and a.rows == b.rows


def test_demo_store_contents(demo_store):
    videos = demo_store.read("videos").to_pandas()
    assert len(videos) == 300
    assert videos["thumbnail"].notna().mean() > 0.9
    assert (videos["platform"] == "demo").all()
    assert demo_store.count("rejects") == 0
    snaps = demo_store.read("snapshots").to_pandas()
    assert 300 <= len(snaps) <= 8 * 300  # crawls a few minutes before and after each of four marks
    assert (snaps.groupby("video_id")["views"].apply(lambda s: s.is_monotonic_increasing)).all()
