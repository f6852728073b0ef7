"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright): a creator fills the
draft form from the keyboard with a real thumbnail, sees the gauge, factors and cards, ranks two variants,
opens the other pages, at 1280 px and at a 390 px phone width. No request leaves 127.0.0.1 and the
console stays clean. Screenshots go to ``test-artifacts/`` (or ``$MILES_TEST_ARTIFACTS``)."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ARTIFACTS = Path(os.environ.get("MILES_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(service):
    import uvicorn

    from miles.serve.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.seen, pg.problems = [], []
    pg.on("request", lambda r: pg.seen.append(r.url))
    pg.on("console", lambda m: pg.problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    yield pg
    assert all(urlparse(u).hostname == "127.0.0.1" for u in pg.seen if not u.startswith(("data:", "blob:"))), pg.seen
    assert pg.problems == [], pg.problems
    ctx.close()


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _thumbs(demo_store, tmp_path, n=2):
    rows = demo_store.read("videos", filter="thumbnail IS NOT NULL", columns=["video_id", "thumbnail"]).to_pylist()[:n]
    paths = []
    for r in rows:
        p = tmp_path / f"{r['video_id']}.jpg"
        p.write_bytes(r["thumbnail"])
        paths.append(p)
    return paths


def test_a_creator_scores_a_draft_from_the_keyboard(server, page, demo_store, tmp_path):
    a, b = _thumbs(demo_store, tmp_path)
    page.goto(server + "/")
    page.focus("#title")
    page.keyboard.type("Wait for it... crispy tofu")
    page.keyboard.press("Tab")
    page.keyboard.type("#food #tofu")
    page.keyboard.press("Tab")
    page.keyboard.type("25")
    page.fill("#creator_id", "creator_0001")
    page.set_input_files("#thumbnail", str(a))
    page.wait_for_selector("#preview:not([hidden])")
    page.click("summary")
    page.fill("#title_variants", "crispy tofu at home\nPOV: you finally tried crispy tofu")
    page.set_input_files("#thumbnail_variant", str(b))
    t = time.perf_counter()
    page.focus("#title")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector("#prediction", timeout=120_000)
    seconds = time.perf_counter() - t
    assert page.locator(".gauge").count() == 1 and "%" in page.locator(".gauge text").first.text_content()
    assert "out of 50 videos like this one" in page.locator("#interval-means").inner_text()  # what the range means
    assert "a typical video here breaks out" in page.locator("#card-headline").inner_text()  # the score card
    assert "views by day" in page.locator("#card-views").inner_text()
    assert page.locator("#factors svg rect").count() >= 3
    boxes = page.eval_on_selector_all("#factors svg text", "els => els.map(e => { const r = e.getBoundingClientRect();"
                                      " return [r.left, r.top, r.right, r.bottom]; })")
    for i, a in enumerate(boxes):  # no label and no number drawn over another
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert "×" in page.locator("#factors svg").inner_html() and "log-odds" not in page.locator("#prediction").inner_text()
    assert page.locator(".cards .card").count() >= 1
    rows = page.locator("#variants tbody tr")
    assert rows.count() == 3
    probs = [float(rows.nth(i).locator("td").nth(2).inner_text().rstrip("%")) for i in range(3)]
    assert probs == sorted(probs, reverse=True)
    assert page.locator("#title").is_enabled()  # the form is usable again
    shot(page, "dashboard-draft")
    (ARTIFACTS / "draft-seconds.txt").write_text(f"{seconds:.2f}\n")


def test_an_error_is_a_message_on_the_page(server, page, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    page.goto(server + "/")
    page.fill("#title", "anything")
    page.set_input_files("#thumbnail", str(bad))
    page.click("button[type=submit]")
    page.wait_for_selector("#result .error", timeout=60_000)
    assert "isn't an image Miles can read" in page.locator("#result .error").inner_text()
    page.problems[:] = [p for p in page.problems if "422" not in p]  # the browser logs the 4xx itself


def test_the_other_pages(server, page, demo_store):
    vid = demo_store.read("videos", filter="thumbnail IS NOT NULL", columns=["video_id"]).to_pylist()[0]["video_id"]
    page.goto(server + "/models")
    assert page.locator("table.wide tbody tr").count() > 5 and page.locator("figure svg").count() == 2
    shot(page, "dashboard-models")
    page.goto(server + "/store")
    assert "300 videos" in page.inner_text("main")
    shot(page, "dashboard-store")
    page.goto(server + f"/videos/{vid}")
    assert page.locator("figure svg polyline").count() == 1 and page.locator("#label").count() == 1
    page.wait_for_load_state("networkidle")
    shot(page, "dashboard-video")


def test_the_draft_page_fits_a_phone(server, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = ctx.new_page()
    pg.goto(server + "/")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.fill("#title", "Wait for it... crispy tofu")
    pg.click("button[type=submit]")
    pg.wait_for_selector("#prediction", timeout=120_000)
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    shot(pg, "dashboard-phone")
    ctx.close()
