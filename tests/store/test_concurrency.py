"""Writers in real processes at once: the writer lock serialises them and the counts come out exact;
``kill -9`` during ``train`` leaves a head that loads whole; ``store check --repair`` mends old stores."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from miles.sources.demo import generate
from miles.store import Store

pytestmark = pytest.mark.slow


def _miles(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "miles.cli", "-q", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _keys_unique(store: Store, table: str, keys: list[str]) -> bool:
    t = store.read(table, columns=keys)
    return t.group_by(keys).aggregate([]).num_rows == t.num_rows


@pytest.mark.parametrize("writers", [2, 3])
def test_concurrent_ingests_lose_nothing_and_duplicate_nothing(tmp_path, writers):
    files = generate(tmp_path / "src", n_videos=400, seed=6)
    store = Store(tmp_path / "store")
    procs = [_miles("ingest", str(files.csv), "--store", str(store.path)) for _ in range(writers)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert store.count("videos") == 400 and store.count("snapshots") == files.rows
    assert _keys_unique(store, "videos", ["video_id"]) and _keys_unique(store, "snapshots", ["video_id", "observed_at"])
    assert sum(" snapshots +0 " in o[0] for o in outs) == writers - 1  # the later ones found it all stored


def test_concurrent_embeds_leave_one_vector_per_video(tmp_path):
    from miles.sources import ingest

    files = generate(tmp_path / "src", n_videos=150, seed=7)
    store = Store(tmp_path / "store")
    ingest([files.csv], store, progress=False)
    procs = [_miles("embed", "--store", str(store.path), "--modality", "text", "--batch-size", "16") for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert store.count("emb_text_minilm") == 150 and _keys_unique(store, "emb_text_minilm", ["video_id"])
    assert any("encoded 0/0" in o[0] for o in outs)  # the second found everything current


def test_a_second_writer_that_cannot_wait_says_who_holds_the_store(tmp_path, monkeypatch):
    from miles.errors import MilesError
    from miles.store.lock import writer_lock

    store = Store(tmp_path / "s")
    code = ("import time, sys; from miles.store import Store; from miles.store.lock import writer_lock\n"
            f"with writer_lock(Store({str(store.path)!r}), 'ingest'):\n    print('held', flush=True); time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t = time.perf_counter()
        with pytest.raises(MilesError, match=r"another Miles process \(miles ingest, pid \d+\)"):
            with writer_lock(store, "embed", timeout=1.0):
                pass
        assert time.perf_counter() - t < 5
    finally:
        holder.kill()
        holder.wait()
    with writer_lock(store, "embed", timeout=5.0):  # a killed holder leaves no stale lock
        with writer_lock(store, "embed"):  # re-entrant in one process
            pass


def test_kill_9_during_train_leaves_a_whole_head(tmp_path):
    """Killed at several moments while it trains, ``miles train`` leaves either the old head or the new
    one: viral and velocity models from the same run, loadable, never half of each."""
    from miles.embed.job import EmbedConfig, embed
    from miles.heads.deployed import head_dir, load_deployed
    from miles.heads.train import train_heads
    from tests.conftest import ingested_store

    store = ingested_store(tmp_path / "demo", videos=300, seed=3)
    embed(store, EmbedConfig(progress=False))
    train_heads(store, heads=("lightgbm",))  # the head a killed train must leave whole, or replace whole
    folder = head_dir(store, "lightgbm", "pre_upload")
    for delay in (2.0, 5.0, 8.0):
        p = _miles("train", "--store", str(store.path), "--heads", "lightgbm", "--seed", str(int(delay)))
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        fitted, meta = load_deployed(store, "lightgbm")
        viral = json.loads((folder / "viral" / "config.json").read_text())["meta"]
        velocity = json.loads((folder / "velocity" / "config.json").read_text())["meta"]
        assert viral["trained_at"] == velocity["trained_at"] == meta["trained_at"]
        versions = [p for p in folder.parent.iterdir() if p.name.startswith("pre_upload@")]
        assert os.path.realpath(folder) in {str(v.resolve()) for v in versions}


def test_store_check_repairs_duplicates_an_older_version_left(tmp_path):
    from miles.sources import ingest

    files = generate(tmp_path / "src", n_videos=30, seed=8)
    store = Store(tmp_path / "store")
    ingest([files.csv], store, progress=False)
    before = store.read("videos", columns=["video_id", "title", "content_hash"]).sort_by("video_id")
    dup = store.read("videos").slice(0, 5)
    store.table("videos").add(dup)  # what two unlocked writers used to leave behind
    store.table("snapshots").add(store.read("snapshots").slice(0, 7))
    r = subprocess.run([sys.executable, "-m", "miles.cli", "store", "check", "--store", str(store.path), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "--repair" in r.stderr
    rows = {x["table"]: x for x in json.loads(r.stdout)}
    assert rows["videos"]["duplicates"] == 5 and rows["snapshots"]["duplicates"] == 7
    r = subprocess.run([sys.executable, "-m", "miles.cli", "store", "check", "--store", str(store.path), "--repair"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert store.count("videos") == 30 and _keys_unique(store, "snapshots", ["video_id", "observed_at"])
    after = store.read("videos", columns=["video_id", "title", "content_hash"]).sort_by("video_id")
    assert after.equals(before)


def test_a_store_named_by_a_relative_path_that_does_not_exist_yet_reenters_its_lock(tmp_path, monkeypatch):
    """`miles demo` with the default ./demo-store: the lock is taken before the folder exists, then again
    inside (ingest) once it does; both must be one key, or the inner one waits for the outer forever."""
    from miles.store.lock import writer_lock

    monkeypatch.chdir(tmp_path)
    store = Store("not-yet")
    t = time.perf_counter()
    with writer_lock(store, "demo", timeout=2.0):
        with writer_lock(Store.open("not-yet"), "ingest", timeout=2.0):
            pass
        with writer_lock(Store(tmp_path / "not-yet"), "embed", timeout=2.0):  # named absolutely
            pass
    assert time.perf_counter() - t < 2.0
