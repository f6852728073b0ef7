"""The real app through its test client: every endpoint, every 4xx, the same numbers as the CLI."""

import json
import subprocess
import sys

import pytest

from tests.conftest import jpeg_bytes


def _draft(**extra):
    data = {"title": "Wait for it... crispy tofu 🔥", "creator_id": "creator_0001", "duration": "20",
            "publish_at": "2026-08-01T18:00:00Z", **extra}
    return data


def test_health_info_and_schema(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    info = client.get("/api/v1/info").json()
    assert info["tables"]["videos"] == 300 and info["deployed"] == "lightgbm"
    assert {"emb_text_minilm", "emb_image_efficientnet_lite0"} <= set(info["encoders"])
    lgb = next(h for h in info["heads"] if h["head"] == "lightgbm")
    assert lgb["label_spec"]["age_hours"] == 168.0 and "time.auroc" in lgb["evaluation"]
    schema = client.get("/openapi.json").json()
    assert {"/api/v1/predict", "/api/v1/recommend", "/api/v1/similar", "/api/v1/videos/{video_id}",
            "/api/v1/videos/{video_id}/thumbnail", "/api/v1/info", "/healthz"} <= set(schema["paths"])
    assert "Prediction" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


def test_predict_equals_the_command_line(client, demo_store, tmp_path):
    thumb = tmp_path / "t.jpg"
    thumb.write_bytes(jpeg_bytes((90, 160), (30, 140, 200)))
    r = client.post("/api/v1/predict", data=_draft(), files={"thumbnail": ("t.jpg", thumb.read_bytes(), "image/jpeg")})
    assert r.status_code == 200, r.text
    api = r.json()
    cli = subprocess.run([sys.executable, "-m", "miles.cli", "-q", "predict", "--store", str(demo_store.path),
                          "--title", "Wait for it... crispy tofu 🔥", "--creator-id", "creator_0001", "--duration", "20",
                          "--publish-at", "2026-08-01T18:00:00Z", "--thumbnail", str(thumb), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    cli = json.loads(cli.stdout)
    for key in ("viral_probability", "viral_interval", "velocity", "velocity_interval", "inputs", "similar", "factors"):
        assert api[key] == cli[key], key


def test_recommend_with_variants(client):
    r = client.post("/api/v1/recommend", data={**_draft(), "title_variant": ["ramen at home", "POV: tofu"]},
                    files=[("thumbnail_variant", ("b.jpg", jpeg_bytes((90, 160), (200, 40, 40)), "image/jpeg"))])
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["variants"]) == 3 and out["text"].startswith(out["draft"]["card"]["headline"])
    probs = [v["viral_probability"] for v in out["variants"]]
    assert probs == sorted(probs, reverse=True)


def test_similar_and_videos(client, demo_store):
    rows = client.get("/api/v1/similar", params={"title": "Wait for it... crispy tofu", "k": 3, "viral_only": True}).json()
    assert 0 < len(rows) <= 3 and all(r["viral"] for r in rows)
    vid = rows[0]["video_id"]
    assert client.get("/api/v1/similar", params={"video_id": vid, "k": 2}).status_code == 200
    v = client.get(f"/api/v1/videos/{vid}").json()
    assert v["video"]["video_id"] == vid and v["snapshots"] and v["label"]["final"]
    times = [s["observed_at"] for s in v["snapshots"]]
    assert times == sorted(times)
    t = client.get(f"/api/v1/videos/{vid}/thumbnail")
    assert t.status_code == 200 and t.headers["content-type"] == "image/jpeg" and t.content[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("method, url, kwargs, status, detail", [
    ("get", "/api/v1/videos/nope", {}, 404, "no video"),
    ("get", "/api/v1/videos/nope/thumbnail", {}, 404, "no video"),
    ("get", "/api/v1/similar", {"params": {"video_id": "nope"}}, 404, "not in"),
    ("get", "/api/v1/similar", {}, 422, "exactly one"),
    ("post", "/api/v1/predict", {"data": {"title": "x", "publish_at": "yesterday-ish"}}, 422, "the publish time"),
    ("post", "/api/v1/predict", {"data": {"title": "  "}}, 422, "empty"),
    ("post", "/api/v1/predict", {"data": {}}, 422, "title"),
    ("post", "/api/v1/predict", {"data": {"title": "x", "duration": "-3"}}, 422, "duration"),
    ("post", "/api/v1/predict", {"data": {"title": "x", "duration": "1e308"}}, 422, "duration: "),
    ("post", "/api/v1/predict", {"data": {"title": "x", "duration": "90000"}}, 422, "duration: "),
    ("post", "/api/v1/predict", {"data": {"title": "x", "duration": "inf"}}, 422, "duration: "),
    ("post", "/api/v1/recommend", {"data": {"title": "x", "duration": "nan"}}, 422, "duration: "),
    ("post", "/api/v1/predict", {"data": {"title": "x", "followers": "1" + "0" * 30}}, 422, "followers: "),
    ("post", "/draft", {"data": {"title": "x", "duration": "1e308"}}, 422, "the duration must be"),
    ("post", "/draft", {"data": {"title": "x", "followers": "1" + "0" * 30}}, 422, "followers must be"),
    ("post", "/api/v1/predict", {"data": {"title": "x", "publish_at": "30000101"}}, 422, "outside 1970..2100"),
    ("post", "/api/v1/predict", {"data": {"title": "x", "publish_at": "20261340"}}, 422, "not a date"),
    ("post", "/api/v1/predict", {"data": {"title": "x", "publish_at": "1970-01-01T00:30+01:00"}}, 422, "outside"),
    ("post", "/api/v1/predict", {"data": {"title": "x"}, "files": {"thumbnail": ("x.jpg", b"not an image")}}, 422,
     "isn't an image Miles can read"),
    ("post", "/api/v1/predict", {"data": {"title": "x"}, "files": {"thumbnail": ("x.jpg", b"\0" * (9 << 20))}}, 413,
     "8 MiB"),
])
def test_errors_are_json_with_a_4xx(client, method, url, kwargs, status, detail):
    r = getattr(client, method)(url, **kwargs)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail"} and detail in body["detail"] and "Traceback" not in r.text


def test_a_pixel_bomb_is_413(client):
    from tests.sources.test_images import png_header_only

    r = client.post("/api/v1/predict", data={"title": "x"}, files={"thumbnail": ("b.png", png_header_only(60_000, 60_000))})
    assert r.status_code == 413 and "pixels" in r.json()["detail"]


def test_security_headers_hosts_and_cors(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text and " style=" not in r.text  # no inline script or style
    assert client.get("/healthz", headers={"host": "evil.example"}).status_code == 400
    r = client.get("/api/v1/info", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_hostile_titles_are_escaped(client):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    r = client.post("/draft", data={"title": hostile, "title_variants": hostile}, headers={"hx-request": "true"})
    assert r.status_code == 200 and 'id="variants"' in r.text  # the variant's title is on the page...
    assert "<script>alert" not in r.text and "<img src=x" not in r.text  # ... escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_a_token_guards_everything_but_health(service):
    from starlette.testclient import TestClient

    from miles.serve.app import create_app

    with TestClient(create_app(service, token="s3cret"), base_url="http://127.0.0.1") as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/api/v1/info").status_code == 401 and c.get("/").status_code == 401
        assert c.get("/api/v1/info", headers={"authorization": "Bearer s3cret"}).status_code == 200
        r = c.get("/?token=s3cret", follow_redirects=False)
        assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
        assert c.get("/").status_code == 200  # the cookie now


def test_cors_only_for_named_origins(service):
    from starlette.testclient import TestClient

    from miles.serve.app import create_app

    with TestClient(create_app(service, cors_origins=["https://app.example"]), base_url="http://127.0.0.1") as c:
        ok = c.get("/healthz", headers={"origin": "https://app.example"})
        assert ok.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-origin" not in c.get("/healthz", headers={"origin": "https://x.example"}).headers


def test_a_store_without_a_head_or_vectors_is_refused_at_start(tmp_path):
    from miles.errors import MilesError
    from miles.serve.service import Service
    from tests.conftest import ingested_store

    store = ingested_store(tmp_path, videos=20)
    with pytest.raises(MilesError, match="miles embed"):
        Service.start(store)
    r = subprocess.run([sys.executable, "-m", "miles.cli", "serve", "--store", str(tmp_path / "nowhere")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "miles demo" in r.stderr


def test_dashboard_pages_render(client, demo_store):
    vid = demo_store.read("videos", columns=["video_id"]).to_pylist()[0]["video_id"]
    for url, text in (("/", "Will this short break out?"), ("/models", "Latest evaluation"), ("/store", "Rejected rows"),
                      (f"/videos/{vid}", "Views over time")):
        r = client.get(url)
        assert r.status_code == 200 and text in r.text, url
    models = client.get("/models").text  # the verdicts, from the evaluation's own numbers
    assert "ranks best by AUROC (higher is better)" in models
    assert "(the served head)" in models or "The served head, LightGBM, scores" in models
    r = client.get("/videos/nope", headers={"accept": "text/html"})
    assert r.status_code == 404 and "Not found" in r.text and 'href="/models"' in r.text  # a page, with navigation
    assert client.get(f"/thumbnails/{vid}").status_code == 200
    assert client.get("/thumbnails/nope").headers["content-type"].startswith("image/svg")
    vendored = json.loads(client.get("/static/VENDORED.json").text)
    import hashlib

    body = client.get("/static/htmx-2.0.8.min.js").content
    assert hashlib.sha256(body).hexdigest() == vendored["htmx-2.0.8.min.js"]["sha256"]
