from __future__ import annotations

import io
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
