"""The whole flow on an ``s3://`` store (a local moto server on 127.0.0.1), through the ``miles`` commands a
user runs: ingest → embed (Ray for titles, the local engine for thumbnails) → index → eval → train →
predict → sql → serve; and two ingests at once that lose nothing and duplicate nothing."""

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from miles.sources.demo import generate
from miles.store import Store

pytestmark = pytest.mark.slow


def _miles(*args, timeout=600) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "miles.cli", "-q", *args], capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, f"miles {' '.join(args)}: {r.stderr[-2000:]}"
    return r


def test_ingest_embed_eval_train_predict_and_sql_on_s3(s3_store, tmp_path, ray_local):
    files = generate(tmp_path / "src", n_videos=160, seed=11)
    _miles("ingest", str(files.csv), "--store", s3_store)
    # read by lance-ray from S3 and staged on S3 (test_ray: the vectors equal the local engine's, chunk by chunk)
    _miles("embed", "--store", s3_store, "--modality", "text", "--engine", "ray", "--address", "auto")
    _miles("embed", "--store", s3_store, "--modality", "image")
    store = Store(s3_store)
    assert store.count("videos") == 160 and store.count("emb_text_minilm") == 160
    assert store.count("emb_image_efficientnet_lite0") == store.read("videos", filter="thumbnail IS NOT NULL").num_rows
    assert not [n for n in store.location.folders() if n.startswith(".staging")]  # merged and removed

    _miles("index", "--store", s3_store)
    metrics = json.loads(_miles("eval", "--store", s3_store, "--heads", "lightgbm", "--moments", "pre_upload",
                                "--splits", "time", "--no-ablations", "--bootstrap", "50", "--json").stdout)["records"]
    assert {m["head"] for m in metrics if m["metric"] != "prevalence"} == {"lightgbm"} and all(0 <= m["value"] <= 1 for m in metrics
                                                                if m["metric"] == "auprc")
    _miles("train", "--store", s3_store, "--heads", "lightgbm")
    assert store.location.exists("heads/lightgbm/pre_upload.current")
    out = json.loads(_miles("predict", "--store", s3_store, "--title", "easy pasta in 10 minutes #food",
                            "--json").stdout)
    assert 0 < out["viral_probability"] < 1 and isinstance(out["similar"], list)
    rows = json.loads(_miles("sql", "--store", s3_store, "--format", "json",
                             "SELECT count(*) AS n, count(DISTINCT video_id) AS ids FROM videos").stdout)
    assert rows == [{"n": 160, "ids": 160}]
    runs = store.read("runs", columns=["kind"]).column("kind").to_pylist()
    assert "eval" in runs and "train" in runs
    _serve_and_ask(s3_store, store.read("videos", columns=["video_id"], filter="thumbnail IS NOT NULL")["video_id"][0].as_py())


def _serve_and_ask(uri: str, video_id: str) -> None:
    """``miles serve`` on the S3 store, a real server on 127.0.0.1: the API, the store page and a thumbnail."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "miles.cli", "-q", "serve", "--store", uri, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):  # the server loads its head and indexes, and answers one draft, before it listens
            assert server.poll() is None, server.stderr.read()[-2000:]
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        body = urllib.parse.urlencode({"title": "easy pasta in 10 minutes #food", "k": "3"}).encode()
        answer = json.loads(urllib.request.urlopen(base + "/api/v1/predict", data=body, timeout=60).read())
        assert 0 < answer["viral_probability"] < 1 and len(answer["similar"]) == 3
        info = json.loads(urllib.request.urlopen(base + "/api/v1/info", timeout=30).read())
        assert info["tables"]["videos"] == 160 and info["store"] == uri.rsplit("/", 1)[-1]  # a name, not a place
        page = urllib.request.urlopen(base + "/store", timeout=30).read().decode()
        assert "<p>160 videos," in page and "<td>snapshots</td>" in page  # with its versions read from S3
        image = urllib.request.urlopen(f"{base}/api/v1/videos/{video_id}/thumbnail", timeout=30)
        assert image.headers["content-type"].startswith("image/") and image.read(3) == b"\xff\xd8\xff"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_two_ingests_at_once_on_s3_lose_nothing_and_duplicate_nothing(s3_store, tmp_path):
    files = generate(tmp_path / "src", n_videos=200, seed=12)
    procs = [subprocess.Popen([sys.executable, "-m", "miles.cli", "-q", "ingest", str(files.csv), "--store", s3_store],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    store = Store(s3_store)
    videos, snaps = store.read("videos", columns=["video_id"]), store.read("snapshots", columns=["video_id", "observed_at"])
    assert videos.num_rows == 200 and len(set(videos["video_id"].to_pylist())) == 200
    assert snaps.num_rows == files.rows == snaps.group_by(["video_id", "observed_at"]).aggregate([]).num_rows
    assert not store.location.exists(".miles-write.lock")  # both released their lease
