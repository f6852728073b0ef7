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


NO_OVERLAP = """sel => { const boxes = [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect())
  .filter(r => r.width > 0); const hit = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => { if (!(a.right <= b.left + 0.5 || b.right <= a.left + 0.5 ||
    a.bottom <= b.top + 0.5 || b.bottom <= a.top + 0.5)) hit.push([a.x, a.y, b.x, b.y]); })); return hit; }"""

SMALL_TEXT = """() => { const small = [];
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!text || !el.getClientRects().length) continue;
    let px = parseFloat(getComputedStyle(el).fontSize);
    const m = el instanceof SVGElement ? el.getScreenCTM() : null;
    if (m) px *= Math.hypot(m.a, m.b);  // the scale, rotated or not
    if (px < 11.9) small.push(el.tagName + " " + px.toFixed(1) + "px: " + el.textContent.trim().slice(0, 40));
  } return small; }"""


def fill_draft(page, thumbs, titles=("crispy tofu at home", "POV: you finally tried crispy tofu")):
    page.focus("#title")
    page.keyboard.type("Wait for it... crispy tofu")
    page.keyboard.press("Tab")
    page.keyboard.type("#food #tofu")
    page.keyboard.press("Tab")
    page.keyboard.type("25")
    page.fill("#creator_id", "creator_0001")
    page.set_input_files("#thumbnail", str(thumbs[0]))
    page.wait_for_selector("#preview:not([hidden])")
    page.click("summary")
    page.fill("#title_variants", "\n".join(titles))
    page.set_input_files("#thumbnail_variant", [str(t) for t in thumbs[1:]])


def test_a_creator_scores_a_draft_from_the_keyboard(server, page, demo_store, tmp_path):
    thumbs = _thumbs(demo_store, tmp_path, 2)
    page.goto(server + "/")
    fill_draft(page, thumbs)
    t = time.perf_counter()
    page.focus("#title")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector("#prediction", timeout=120_000)
    seconds = time.perf_counter() - t
    assert page.locator(".gauge").count() == 1 and "%" in page.locator(".gauge text").first.text_content()
    assert "out of 50 videos like this one" in page.locator("#interval-means").inner_text()  # what the range means
    assert "a typical video here breaks out" in page.locator("#card-headline").inner_text()  # the score card
    assert "views by day" in page.locator("#card-views").inner_text()
    assert "moves the odds ×" in page.locator("#card-channel").inner_text()  # what the channel does, as a number
    gauge_box = page.eval_on_selector(".gauge", "e => e.getBoundingClientRect().bottom")
    assert page.eval_on_selector(".gauge text:last-of-type", "e => e.getBoundingClientRect().bottom") <= gauge_box + 0.5
    assert page.locator("#factors .bar-row").count() >= 3
    assert page.evaluate(NO_OVERLAP, "#factors .bar-label, #factors .bar-value, #factors svg.bar") == []
    assert "×" in page.locator("#factors").inner_text() and "log-odds" not in page.locator("#prediction").inner_text()
    assert "log10" not in page.locator("#prediction").inner_text() and "embedding" not in page.locator("#prediction").inner_text()
    assert page.locator(".cards .card").count() >= 1
    said = page.locator("#suggestions li .said").all_inner_texts()
    assert said and all(s.startswith("Tried on your draft") for s in said)  # each applied change, scored
    items = page.locator("#variants .feed-item")
    assert items.count() == 4 and "draft" in items.nth(0).get_attribute("class")  # the draft is the first row
    probs = [float(items.nth(i).locator(".p strong").inner_text().rstrip("%")) for i in range(1, 4)]
    assert probs == sorted(probs, reverse=True)
    assert all(page.eval_on_selector_all("#variants img", "els => els.map(e => e.complete && e.naturalWidth > 0)"))
    assert "brightness" in items.nth(0).inner_text() and "against the draft" in items.nth(1).inner_text()
    assert page.locator("#variant-verdict").inner_text().strip()
    assert page.evaluate("document.activeElement.id") == "prediction"  # focus moved to the result
    top = page.eval_on_selector("#prediction", "e => e.getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"]  # and it is in view
    assert "title=Wait+for+it" in page.url  # the draft is in the address
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
    assert "isn't an image Miles can read (JPEG, PNG or WebP)" in page.locator("#result .error").inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error')")
    page.problems[:] = [p for p in page.problems if "422" not in p]  # the browser logs the 4xx itself


def test_an_oversized_image_is_stopped_before_it_is_sent(server, page, tmp_path):
    big = tmp_path / "holiday.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * (9 << 20))
    page.goto(server + "/")
    assert "8 MiB" in page.locator("label[for=thumbnail]").inner_text()  # the limit is on the form
    page.fill("#title", "anything")
    page.set_input_files("#thumbnail", str(big))
    assert page.locator("#size-error").is_visible()
    message = page.locator("#size-error").inner_text()
    assert "holiday.jpg" in message and "8 MiB" in message and "Thumbnail" in message
    page.click("button[type=submit]")
    page.wait_for_timeout(500)
    assert not any(u.endswith("/draft") for u in page.seen)  # nothing was uploaded
    shot(page, "dashboard-too-large")


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
    page.goto(server + "/no/such/page")
    assert page.locator("header nav a").count() == 4 and "no page at /no/such/page" in page.locator("#page-error").inner_text()
    page.problems[:] = [p for p in page.problems if "404" not in p]
    shot(page, "dashboard-404")


def test_every_page_fits_a_phone_and_back_restores_the_draft(server, browser, demo_store, tmp_path):
    """At 390 px, after a full draft with five variants: no page scrolls sideways, no text is under 12 px,
    and Back from a similar video's page brings the draft and its result back."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = ctx.new_page()
    pg.goto(server + "/")
    fill_draft(pg, _thumbs(demo_store, tmp_path, 3), titles=("crispy tofu at home", "POV: you finally tried crispy tofu",
                                                              "I tried the viral crispy tofu hack so you don't have to"))
    pg.click("button[type=submit]")
    pg.wait_for_selector("#prediction", timeout=120_000)
    assert pg.locator("#variants .feed-item").count() == 6
    assert pg.evaluate("document.activeElement.id") == "prediction"
    headline = pg.locator("#card-headline").inner_text()
    pages = {"draft": None}
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390, "draft"
    assert pg.evaluate(SMALL_TEXT) == [], "draft"
    shot(pg, "dashboard-phone")
    pg.locator("#variants").scroll_into_view_if_needed()
    pg.locator(".phone").screenshot(path=str(ARTIFACTS / "dashboard-feed.png"))
    vid = demo_store.read("videos", filter="thumbnail IS NOT NULL", columns=["video_id"]).to_pylist()[0]["video_id"]
    for name, url in (("models", "/models"), ("store", "/store"), ("video", f"/videos/{vid}"), ("404", "/nowhere")):
        pg.goto(server + url)
        pages[name] = pg.evaluate("document.documentElement.scrollWidth")
        assert pages[name] <= 390, (name, pages[name])
        assert pg.evaluate(SMALL_TEXT) == [], name
    pg.goto(server + "/")
    pg.fill("#title", "Wait for it... crispy tofu")
    pg.click("button[type=submit]")
    pg.wait_for_selector("#prediction", timeout=120_000)
    headline = pg.locator("#card-headline").inner_text()
    pg.locator(".cards .card").first.click()
    pg.wait_for_selector("#label")
    pg.go_back()
    pg.wait_for_selector("#prediction", timeout=120_000)
    assert pg.locator("#card-headline").inner_text() == headline and pg.input_value("#title") == "Wait for it... crispy tofu"
    ctx.close()
