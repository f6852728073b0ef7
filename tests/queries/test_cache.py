"""One bounded cache: many stores opened in one process hold a bounded number of views, vectors and heads;
a store's entry is rebuilt when its version moves on, never kept twice."""

import gc
import time

import pytest

import miles.queries.cache as cache
from miles.bounded import Bounded
from miles.heads.view import StoreView
from tests.conftest import ingested_store


def test_least_recently_used_goes_first_and_old_answers_expire():
    b = Bounded(2)
    b.put("a", 1)
    b.put("b", 2)
    assert b.get("a", lambda: 0) == 1  # a is now the most recent
    b.put("c", 3)
    assert "b" not in b and b.peek("a") == 1 and len(b) == 2
    assert b.get("a", lambda: 10, valid=lambda v: v > 5) == 10  # stale: made again
    young = Bounded(4, max_age=0.05)
    young.put("k", None)
    assert "k" in young and young.get("k", lambda: 1) is None  # None is a value like any other
    time.sleep(0.06)
    assert young.get("k", lambda: 1) == 1
    with pytest.raises(ValueError):
        Bounded(0)


def views_alive() -> int:
    gc.collect()
    return sum(isinstance(o, StoreView) for o in gc.get_objects())


def test_twenty_stores_in_one_process_hold_a_bounded_number_of_views(tmp_path):
    cache.PROCESS.views.clear()
    before = views_alive()
    stores = [ingested_store(tmp_path / f"s{i}", videos=12, seed=i) for i in range(20)]
    for s in stores:
        assert len(cache.store_view(s).videos) == 12
    assert len(cache.PROCESS.views) == cache.STORES
    assert views_alive() - before <= cache.STORES
    # a write to a store is seen at once, and replaces that store's view rather than adding one
    s = stores[-1]
    old = cache.store_view(s)
    s.upsert("videos", [{**old.videos.iloc[0].drop(["has_thumbnail"]).to_dict(), "title": "a new title"}])
    assert cache.store_view(s) is not old and len(cache.PROCESS.views) == cache.STORES
