"""A page a user visits cannot drive the local server, and one request cannot spend minutes of decoding:
images are JPEG, PNG or WebP by their bytes, and a request's images share one pixel budget."""

import io
import time

from PIL import Image

from tests.conftest import jpeg_bytes


def _png(width, height) -> bytes:
    buf = io.BytesIO()
    Image.new("I;16", (width, height)).save(buf, "PNG")
    return buf.getvalue()


def test_a_post_from_another_site_is_refused(client):
    form = {"title": "Wait for it"}
    r = client.post("/api/v1/predict", data=form, headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and "another site" in r.json()["detail"]
    r = client.post("/api/v1/predict", data=form, headers={"referer": "https://evil.example/page"})
    assert r.status_code == 403
    assert client.post("/api/v1/predict", data=form, headers={"origin": "http://127.0.0.1"}).status_code == 200
    assert client.post("/api/v1/predict", data=form).status_code == 200  # curl sends neither


def test_only_jpeg_png_and_webp_are_read_whatever_the_name(client):
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    for data in (eps, gif.getvalue(), b"not an image at all"):
        r = client.post("/api/v1/predict", data={"title": "t"}, files={"thumbnail": ("t.jpg", data, "image/jpeg")})
        assert r.status_code == 422 and "JPEG, PNG or WebP" in r.json()["detail"], r.text
    r = client.post("/api/v1/predict", data={"title": "t"}, files={"thumbnail": ("t.jpg", jpeg_bytes(), "image/jpeg")})
    assert r.status_code == 200


def test_a_requests_images_share_one_pixel_budget(client):
    big = _png(6000, 6000)  # 36 Mpx, under the per-image limit, 16-bit
    files = [("thumbnail", ("a.png", big, "image/png"))] + [("thumbnail_variant", (f"v{i}.png", big, "image/png"))
                                                           for i in range(4)]
    t = time.monotonic()
    r = client.post("/api/v1/recommend", data={"title": "t"}, files=files)
    assert r.status_code == 413 and "million pixels together" in r.json()["detail"]
    assert time.monotonic() - t < 10  # refused from the headers, before any decoding
