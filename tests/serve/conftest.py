import pytest


@pytest.fixture(scope="session")
def service(demo_store):
    from miles.serve.service import Service

    return Service.start(demo_store)


@pytest.fixture(scope="session")
def client(service):
    from starlette.testclient import TestClient

    from miles.serve.app import create_app

    with TestClient(create_app(service), base_url="http://127.0.0.1") as c:
        yield c
