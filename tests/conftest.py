from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session", autouse=True)
def _graph_cache(tmp_path_factory):
    """Saved encoder graphs go to a folder of this test session, not the user's cache."""
    import os

    old = os.environ.get("MILES_CACHE_DIR")
    os.environ["MILES_CACHE_DIR"] = str(tmp_path_factory.mktemp("miles-cache"))
    yield
    if old is None:
        os.environ.pop("MILES_CACHE_DIR", None)
    else:
        os.environ["MILES_CACHE_DIR"] = old


@pytest.fixture
def store(tmp_path):
    from miles.store import Store

    return Store.open(tmp_path / "store")


def jpeg_bytes(size=(64, 48), colour=(200, 40, 40), fmt="JPEG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """A small demo store (300 videos), built once per test session through the real pipeline."""
    from miles.pipeline import run_demo

    built = os.environ.get("MILES_TEST_DEMO_STORE")  # a copy of one built before (same call), to iterate faster
    if built:
        import shutil

        from miles.store import Store

        return Store.open(shutil.copytree(built, tmp_path_factory.mktemp("demo") / "store"))
    return run_demo(tmp_path_factory.mktemp("demo") / "store", videos=300, seed=1, progress=False).store


@pytest.fixture(scope="session")
def ray_local():
    """One Ray on this machine for the session's Ray tests (skipped without `miles[ray]`)."""
    ray = pytest.importorskip("ray", reason="the Ray tests need `pip install 'miles[ray]'`")
    pytest.importorskip("lance_ray", reason="the Ray tests need `pip install 'miles[ray]'`")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def ingested_store(folder: Path, videos: int, seed: int = 2):
    """A store with demo videos ingested but nothing embedded."""
    from miles.sources import ingest
    from miles.sources.demo import generate
    from miles.store import Store

    files = generate(folder / "src", n_videos=videos, seed=seed)
    store = Store.open(folder / "store")
    ingest([files.csv], store, progress=False)
    return store


def shared(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (real development data lives beside the repository)")
    return path


@pytest.fixture(scope="session")
def s3_endpoint():
    """A local S3 server (moto's server mode) on 127.0.0.1 for the session (skipped without moto)."""
    pytest.importorskip("boto3", reason="the S3 tests need `pip install 'miles[s3]'`")
    server = pytest.importorskip("moto.server", reason="the S3 tests need moto's server (in `miles[dev]`)")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    moto = server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    yield f"http://{host}:{port}"
    moto.stop()


@pytest.fixture
def s3_store(s3_endpoint, monkeypatch, request):
    """``s3://<a fresh bucket>/miles`` on the local S3 server, with the AWS_* environment that names it
    (inherited by the ``miles`` processes a test starts)."""
    import re
    import uuid

    import boto3

    env = {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "miles",
           "AWS_SECRET_ACCESS_KEY": "miles-secret", "AWS_REGION": "us-east-1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    bucket = f"{re.sub('[^a-z0-9]', '-', request.node.name.lower())[:40].strip('-')}-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/miles"


def refused_within(seconds: float, call):
    """Run ``call`` on a thread; fail the test if it is still running after ``seconds`` (a hang), else
    return the exception it raised (None when it returned)."""
    import threading

    out = {}

    def run():
        try:
            call()
        except Exception as err:  # the refusal under test
            out["error"] = err

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "it hung"
    return out.get("error")
