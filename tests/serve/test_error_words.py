"""Every error the API and the dashboard can return is in plain words: no command-line flags, Python class
names, object reprs, tracebacks or server paths, and it names the field (and the file) it is about."""

import html
import io
import re

import pytest
from PIL import Image

FORBIDDEN = [(re.compile(r"(^|\s)--?[a-z]"), "a command-line flag"),
             (re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception)\b"), "a Python class name"),
             (re.compile(r"0x[0-9a-f]{6,}|<[a-z_.]+ object"), "an object repr"),
             (re.compile(r"Traceback|File \""), "a traceback"),
             (re.compile(r"`miles |\bmiles (sql|train|embed|demo)\b"), "a command")]


def _jpeg(size=(90, 160)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 80, 40)).save(buf, "JPEG")
    return buf.getvalue()


def bad_requests(vid: str):
    """(name, method, url, kwargs, the word the message must contain): every way a request can be refused."""
    good = _jpeg()
    for url in ("/api/v1/predict", "/api/v1/recommend", "/draft"):
        yield from [
            ("empty title", "post", url, {"data": {"title": "  "}}, "title"),
            ("no title", "post", url, {"data": {}}, "title"),
            ("negative duration", "post", url, {"data": {"title": "x", "duration": "-3"}}, "duration"),
            ("text duration", "post", url, {"data": {"title": "x", "duration": "abc"}}, "duration"),
            ("huge followers", "post", url, {"data": {"title": "x", "followers": "1" + "0" * 30}}, "followers"),
            ("bad date", "post", url, {"data": {"title": "x", "publish_at": "yesterday-ish"}}, "publish time"),
            ("date before data", "post", url, {"data": {"title": "x", "publish_at": "1900-01-01"}}, "publish time"),
            ("text as jpg", "post", url, {"data": {"title": "x"}, "files": {"thumbnail": ("x.jpg", b"not an image")}},
             "isn't an image Miles can read (JPEG, PNG or WebP)"),
            ("truncated jpeg", "post", url, {"data": {"title": "x"}, "files": {"thumbnail": ("t.jpg", good[:200])}},
             "thumbnail"),
            ("too large", "post", url, {"data": {"title": "x"}, "files": {"thumbnail": ("x.jpg", b"\0" * (9 << 20))}},
             "8 MiB"),
            ("long title", "post", url, {"data": {"title": "x" * 6000}}, "title"),
        ]
    for url in ("/api/v1/recommend", "/draft"):
        field = "thumbnail_variant"
        yield ("unreadable variant", "post", url, {"data": {"title": "x"}, "files": [
            ("thumbnail", ("a.jpg", good)), (field, ("b.jpg", good)), (field, ("holiday.jpg", b"GIF89a no"))]},
            "holiday.jpg")
        many = [(field, (f"v{i}.jpg", good)) for i in range(9)]
        yield ("too many variants", "post", url, {"data": {"title": "x"}, "files": many}, "variants")
    yield from [
        ("unknown video", "get", "/api/v1/videos/nope", {}, "nope"),
        ("unknown thumbnail", "get", "/api/v1/videos/nope/thumbnail", {}, "nope"),
        ("unknown similar", "get", "/api/v1/similar", {"params": {"video_id": "nope"}}, "nope"),
        ("no similar key", "get", "/api/v1/similar", {}, "video_id"),
        ("bad modality", "get", "/api/v1/similar", {"params": {"title": "x", "modality": "smell"}}, "modality"),
        ("big k", "get", "/api/v1/similar", {"params": {"title": "x", "k": "5000"}}, "k"),
        ("no such page", "get", "/nowhere", {}, "nowhere"),
        ("no such api", "get", "/api/v1/nowhere", {}, "nowhere"),
        ("wrong method", "delete", f"/api/v1/videos/{vid}", {}, "method"),
        ("unknown video page", "get", "/videos/nope", {"headers": {"accept": "text/html"}}, "nope"),
        ("cross-site post", "post", "/api/v1/predict", {"data": {"title": "x"}, "headers": {"origin": "http://evil.example"}},
         "another site"),
    ]


def plain(text: str, store_path: str) -> list[str]:
    found = [why for rx, why in FORBIDDEN if rx.search(text)]
    return found + (["a server path"] if store_path in text or "/tmp/" in text else [])


def test_every_error_is_in_plain_words(client, demo_store):
    vid = demo_store.read("videos", columns=["video_id"]).to_pylist()[0]["video_id"]
    seen = 0
    for name, method, url, kwargs, word in bad_requests(vid):
        for hx in (False, True) if url == "/draft" else (False,):
            headers = {**kwargs.get("headers", {}), **({"hx-request": "true"} if hx else {})}
            r = getattr(client, method)(url, **{**kwargs, "headers": headers})
            assert 400 <= r.status_code < 500, (name, url, r.status_code, r.text[:300])
            text = r.json()["detail"] if r.headers["content-type"].startswith("application/json") else \
                html.unescape(re.sub(r"<[^>]+>", " ", r.text))
            assert word.lower() in text.lower(), (name, url, text[:300])
            assert not plain(text, str(demo_store.path)), (name, url, plain(text, str(demo_store.path)), text[:300])
            seen += 1
    assert seen >= 50


def test_the_words_check_catches_what_it_should():
    """The check is not vacuous: each kind of leak it looks for is caught."""
    for leak in ("--title is empty", "UnidentifiedImageError: cannot identify", "<_io.BytesIO object at 0x7f3a2b1c9d40>",
                 "Traceback (most recent call last)", "run `miles train --store x`", "no video in /srv/data/store"):
        assert plain(leak, "/srv/data/store"), leak
    assert plain("the title is empty: give the draft's title", "/srv/data/store") == []


def test_a_notes_and_card_speak_plainly(client):
    r = client.post("/api/v1/predict", data={"title": "y" * 150, "creator_id": "nobody_here"})
    assert r.status_code == 200
    body = r.json()
    words = " ".join(body["notes"]) + " " + " ".join(str(v) for v in body["card"].values())
    assert "150 characters; YouTube takes at most 100" in words and "e+" not in words
    assert "has no videos in this store" in words and not plain(words, "/")


@pytest.mark.parametrize("hx", [True, False])
def test_an_oversized_form_is_answered_as_the_asker_reads(client, hx):
    r = client.post("/draft", data={"title": "x"}, files={"thumbnail": ("x.jpg", b"\0" * (9 << 20))},
                    headers={"hx-request": "true"} if hx else {})
    assert r.status_code == 413
    if hx:  # the dashboard's form shows a message, not raw JSON
        assert r.headers["content-type"].startswith("text/html") and 'class="error"' in r.text and "8 MiB" in r.text
    else:
        assert r.json()["detail"].startswith("the request is over the 8 MiB limit")
