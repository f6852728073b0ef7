import pytest

from miles.collect.extractors import EXTRACTORS
from miles.collect.platform import PlatformServer, World
from miles.collect.ytdlp import Client
from miles.store import Store


@pytest.fixture
def world():
    return World.make(videos=12, days=10, seed=3, publish_days=2)


@pytest.fixture
def server(world):
    with PlatformServer(world) as s:
        yield s


@pytest.fixture
def client():
    return Client(pause=0, extra_extractors=EXTRACTORS)


@pytest.fixture
def store(tmp_path):
    return Store.open(tmp_path / "s")


def channels(world, server):
    return [server.url(f"/sim/@{c}/shorts") for c in world.creators]
