"""The watchlist in a real Chromium: the live videos a fortnight of ``watch`` passes scored, highest chance
first, each with its trajectory and an alert badge, polling for updates; a video's page shows its score
history; no sideways scroll at 390 px."""

import shutil
import socket
import threading
import time

import pandas as pd
import pytest

from tests.serve.test_browser import CHROMIUM, SMALL_TEXT, browser, shot  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)")


@pytest.fixture(scope="module")
def watched(demo_store, tmp_path_factory):
    from miles.queries.watch import watch_pass
    from miles.store import Store

    store = Store.open(shutil.copytree(demo_store.path, tmp_path_factory.mktemp("watched") / "store"))
    end = pd.Timestamp(store.read("videos", columns=["published_at"]).to_pandas()["published_at"].max())
    for t in pd.date_range(end - pd.Timedelta(days=8), end - pd.Timedelta(days=1), freq="12h"):
        watch_pass(store, t.to_pydatetime(), alert_above=0.4)
    return store


@pytest.fixture(scope="module")
def watch_server(watched):
    import uvicorn

    from miles.serve.app import create_app
    from miles.serve.service import Service

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(Service.start(watched)), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_watchlist(watch_server, watched, browser, width):  # noqa: F811
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    pg.goto(watch_server + "/watch")
    items = pg.locator(".board .live")
    assert items.count() >= 3
    shown = [float(items.nth(i).locator("p strong").inner_text().rstrip("%")) for i in range(items.count())]
    assert shown == sorted(shown, reverse=True)  # highest chance first
    scores = watched.read("scores").to_pandas()
    alerted = set(scores.loc[scores["alert"], "video_id"])
    for i in range(items.count()):
        href = items.nth(i).locator(".live-head a").get_attribute("href")
        assert (items.nth(i).locator(".badge").count() == 1) == (href.rsplit("/", 1)[1] in alerted)
        assert items.nth(i).locator("svg.trajectory circle").count() >= 1
        assert items.nth(i).locator("svg.growth polyline").count() >= 1  # its views, against the neighbours'
    assert pg.get_attribute("#board", "hx-trigger") == "every 60s"
    assert pg.evaluate("document.documentElement.scrollWidth") <= width
    assert pg.evaluate(SMALL_TEXT) == []
    shot(pg, f"dashboard-watch-{width}")
    pg.locator(".board .live-head a").first.click()
    pg.wait_for_selector("#score-history")
    assert pg.locator("#score-history tbody tr").count() >= 1
    assert pg.evaluate("document.documentElement.scrollWidth") <= width
    ctx.close()


def test_the_board_fragment_polls_without_the_page(watch_server):
    import urllib.request

    with urllib.request.urlopen(watch_server + "/watch/board", timeout=60) as r:
        body = r.read().decode()
    assert 'class="board"' in body and "<header>" not in body
