"""The server's models live in its app's lifespan state: a service loads into its own caches, never the
process's, and the app releases them when it shuts down."""

from starlette.testclient import TestClient

from miles.heads.labels import LabelSpec
from miles.queries import cache
from miles.serve.app import create_app
from miles.serve.service import Service


def _held(caches: cache.Caches) -> int:
    return len(caches.heads) + len(caches.views) + len(caches.encoders)


def test_a_service_loads_into_its_own_caches_and_its_app_releases_them(demo_store):
    cache.PROCESS.clear()
    service = Service(demo_store, "lightgbm", LabelSpec())
    with TestClient(create_app(service), base_url="http://127.0.0.1") as c:
        r = c.post("/api/v1/predict", data={"title": "Wait for it... ramen hack", "creator_id": ""})
        assert r.status_code == 200, r.text
        assert len(service.caches.heads) == 1 and len(service.caches.views) == 1 and service.caches.encoders
        assert _held(cache.PROCESS) == 0  # nothing of the server's in the process-wide caches
    assert _held(service.caches) == 0  # shut down: the models are released


def test_two_services_in_one_process_keep_their_own_models(demo_store):
    a, b = Service(demo_store, "lightgbm", LabelSpec()), Service(demo_store, "lightgbm", LabelSpec())
    a.predict(title="one")
    b.predict(title="two")
    head_a = a.caches.heads.peek((demo_store.location.key, "lightgbm", "pre_upload"))
    head_b = b.caches.heads.peek((demo_store.location.key, "lightgbm", "pre_upload"))
    assert head_a is not None and head_b is not None and head_a[1][0] is not head_b[1][0]
    a.close()
    assert _held(a.caches) == 0 and len(b.caches.heads) == 1
