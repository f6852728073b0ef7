import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from miles.queries.cache import deployed_head
from miles.queries.faces import count_faces
from miles.queries.recommend import llm_text, recommend


@pytest.fixture
def draft(demo_store, tmp_path):
    rows = demo_store.read("videos", filter="thumbnail IS NOT NULL", columns=["video_id", "thumbnail"]).to_pylist()
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.write_bytes(rows[0]["thumbnail"])
    b.write_bytes(rows[1]["thumbnail"])
    return a, b  # files, for the CLI; the library takes bytes


def summary_of(best: dict) -> str:
    """What the text must say of the top variant, given its numbers: never "best" below the draft, nor when
    the paired interval holds no change."""
    if best["delta"] <= 0:
        return "No variant scores above the draft"
    ci = best["delta_interval"]
    return "No clear winner" if ci and ci[0] <= 0 <= ci[1] else "Best variant"


def test_the_same_thumbnail_saved_again_is_no_different_result(demo_store, draft):
    """A JPEG re-saved at quality 75 moves P a little; the paired interval over the resampled heads says
    that is no change (the draft is scored by the same refits)."""
    import io

    from PIL import Image

    a, _ = draft
    buf = io.BytesIO()
    Image.open(a).convert("RGB").save(buf, format="JPEG", quality=75)
    out = recommend(demo_store, title="ramen at home", thumbnail=a.read_bytes(), creator_id="creator_0001",
                    duration=25, thumbnail_variants=[("resaved.jpg", buf.getvalue())])
    lo, hi = out["variants"][0]["delta_interval"]
    assert lo <= 0 <= hi
    assert "Best variant" not in out["text"]


def test_recommend_ranks_variants_and_cites_neighbours(demo_store, draft):
    a, b = draft
    out = recommend(demo_store, title="ramen at home", thumbnail=a.read_bytes(), creator_id="creator_0001",
                    duration=25, title_variants=["Wait for it... ramen hack", "ramen"],
                    thumbnail_variants=[("b.jpg", b.read_bytes())])
    assert len(out["variants"]) == 3
    probs = [v["viral_probability"] for v in out["variants"]]
    assert probs == sorted(probs, reverse=True)
    for v in out["variants"]:
        assert v["delta"] == pytest.approx(v["viral_probability"] - out["draft"]["viral_probability"], abs=1e-3)
        if v["delta_interval"]:
            assert v["delta_interval"][0] <= v["delta"] <= v["delta_interval"][1]
    neighbour_ids = {s["video_id"] for s in out["similar"]}
    assert out["suggestions"] and all(set(s["evidence"]) <= neighbour_ids for s in out["suggestions"])
    assert out["text_source"] == "deterministic" and out["text"].startswith(out["draft"]["card"]["headline"])
    assert summary_of(out["variants"][0]) in out["text"]
    assert set(out["measured"]) >= {"title_chars", "opening", "brightness", "contrast", "faces"}
    patterns = deployed_head(demo_store, "lightgbm")[1]["shap_patterns"]  # saved by `miles train`
    assert {"duration_s", "title_chars", "hashtag_count", "publish_hour"} <= set(patterns)
    thumb_row = next(v for v in out["variants"] if v["kind"] == "thumbnail")
    assert thumb_row["thumbnail"]["faces"] == count_faces(b.read_bytes())


class Fake(BaseHTTPRequestHandler):
    mode = "ok"
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Fake.seen.append((self.path, body))
        if Fake.mode == "slow":
            time.sleep(2.0)
        payload = (b"{not json" if Fake.mode == "malformed" else
                   json.dumps({"choices": [{"message": {"role": "assistant", "content": "- open with a hook"}}]}).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            self.wfile.write(payload)
        except BrokenPipeError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    srv = HTTPServer(("127.0.0.1", 0), Fake)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    monkeypatch.setenv("MILES_LLM_BASE_URL", f"http://127.0.0.1:{srv.server_address[1]}/v1")
    monkeypatch.setenv("MILES_LLM_MODEL", "fake-model")
    Fake.seen = []
    yield
    srv.shutdown()


def test_llm_success(server):
    Fake.mode = "ok"
    text, source = llm_text({"draft": {"viral_probability": 0.3}}, "fallback text", timeout=5)
    assert (text, source) == ("- open with a hook", "llm")
    path, body = Fake.seen[0]
    assert path == "/v1/chat/completions" and body["model"] == "fake-model"
    assert json.loads(body["messages"][1]["content"]) == {"draft": {"viral_probability": 0.3}}


@pytest.mark.parametrize("mode", ["malformed", "slow"])
def test_llm_failures_fall_back(server, mode):
    Fake.mode = mode
    text, source = llm_text({"x": 1}, "fallback text", timeout=0.5)
    assert source == "deterministic" and text.startswith("fallback text") and "LLM unavailable" in text


def test_no_endpoint_means_deterministic(monkeypatch):
    monkeypatch.delenv("MILES_LLM_BASE_URL", raising=False)
    assert llm_text({}, "plain") == ("plain", "deterministic")


def test_recommend_with_llm_end_to_end(demo_store, draft, server):
    Fake.mode = "ok"
    out = recommend(demo_store, title="ramen at home", thumbnail=draft[0].read_bytes(), use_llm=True)
    assert out["text_source"] == "llm" and out["text"] == "- open with a hook"


def test_recommend_cli_prints_text_and_the_variant_table(demo_store, draft, capsys):
    from miles.cli import main

    a, b = draft
    assert main(["recommend", "--store", str(demo_store.path), "--title", "ramen at home", "--thumbnail", str(a),
                 "--creator-id", "creator_0001", "--title-variant", "Wait for it... ramen hack",
                 "--thumbnail-variant", str(b)]) == 0
    out = capsys.readouterr().out
    assert "a typical video here breaks out" in out.splitlines()[0] and any(w in out for w in ("Best variant", "No clear winner", "No variant"))
    header = next(line for line in out.splitlines() if line.startswith("kind"))
    assert header.split()[-3:] == ["faces", "brightness", "contrast"]
    assert main(["recommend", "--store", str(demo_store.path), "--title", "ramen at home", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["text_source"] == "deterministic"


