import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from miles.queries.cache import deployed_head
from miles.queries.faces import count_faces
from miles.queries.recommend import _pattern_suggestions, _suggestions, llm_text, recommend


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
    assert out["text_source"] == "deterministic" and out["text"].startswith("P(viral)")
    assert summary_of(out["variants"][0]) in out["text"]
    assert set(out["measured"]) >= {"title_chars", "opening", "brightness", "contrast", "faces"}
    patterns = deployed_head(demo_store, "lightgbm")[1]["shap_patterns"]  # saved by `miles train`
    assert {"duration_s", "title_chars", "hashtag_count", "publish_hour"} <= set(patterns)
    thumb_row = next(v for v in out["variants"] if v["kind"] == "thumbnail")
    assert thumb_row["thumbnail"]["faces"] == count_faces(b.read_bytes())


def test_faces_suggestion_cites_the_neighbours_with_faces(demo_store):
    rows = demo_store.read("videos", filter="thumbnail IS NOT NULL", columns=["video_id", "thumbnail"]).to_pylist()
    faced = [r["video_id"] for r in rows[:80] if count_faces(r["thumbnail"]) > 0][:3]
    plain = [r["video_id"] for r in rows[:80] if count_faces(r["thumbnail"]) == 0][:1]
    assert len(faced) == 3 and plain
    draft = {"title_chars": 20, "opening": ("wait", "wait for"), "hashtags": 2, "duration_s": 30,
             "publish_hour": None, "brightness": 0.5, "contrast": 0.2, "faces": 0}
    out = _suggestions(demo_store, draft, [{"video_id": i} for i in faced + plain], [], [])
    face = [s for s in out if s["what"].startswith("show a face")]
    assert len(face) == 1 and face[0]["what"].startswith("show a face: 3 of 4") and set(face[0]["evidence"]) == set(faced)
    factors = [{"kind": "group", "name": "format", "effect": -0.001}, {"kind": "group", "name": "timing", "effect": -0.4}]
    out = _suggestions(demo_store, dict(draft, faces=1), [{"video_id": i} for i in faced + plain], factors, [])
    assert not any("face" in s["what"] for s in out)
    assert [s["what"] for s in out if "holds" in s["what"]] == ["the model holds timing against this draft "
                                                                 "(×0.67 the odds)"]  # a negligible -0.00 is not said


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
    assert out.startswith("P(viral)") and any(w in out for w in ("Best variant", "No clear winner", "No variant"))
    header = next(line for line in out.splitlines() if line.startswith("kind"))
    assert header.split()[-3:] == ["faces", "brightness", "contrast"]
    assert main(["recommend", "--store", str(demo_store.path), "--title", "ramen at home", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["text_source"] == "deterministic"


def test_pattern_suggestions_need_a_real_gap_and_enough_rows():
    patterns = {
        "duration_s": [{"lo": 5, "hi": 15, "n": 100, "effect": 0.4}, {"lo": 15, "hi": 40, "n": 100, "effect": 0.0},
                       {"lo": 40, "hi": 60, "n": 100, "effect": -0.3}],
        "hashtag_count": [{"lo": 0, "hi": 2, "n": 100, "effect": 0.05}, {"lo": 2, "hi": 5, "n": 100, "effect": 0.0}],
        "title_chars": [{"lo": 0, "hi": 30, "n": 5, "effect": 1.0}, {"lo": 30, "hi": 60, "n": 100, "effect": 0.0}],
        "publish_hour": [{"lo": 0, "hi": 12, "n": 100, "effect": 0.5}, {"lo": 12, "hi": 23, "n": 100, "effect": 0.0}],
    }
    inputs = {"duration_s": 55.0, "hashtag_count": 3, "title_chars": 45, "publish_hour": float("nan")}
    out = _pattern_suggestions(patterns, inputs)
    assert [s["pattern"] for s in out] == ["duration_s"]
    what = out[0]["what"]
    assert "scores 5–15 s highest" in what and "(55 s)" in what and "×0.50 the odds of that" in what  # e^(-0.3-0.4)
    assert _pattern_suggestions(patterns, dict(inputs, duration_s=10.0)) == []


def test_opening_suggestion_cites_the_neighbours_that_use_it(demo_store):
    """An opening learned from training rows is suggested only when a similar viral video opens with it and
    the draft does not."""
    from miles.heads.openings import opening_of

    rows = demo_store.read("videos", columns=["video_id", "title"]).to_pylist()
    users = [r["video_id"] for r in rows if "wait for" in opening_of(r["title"])][:2]
    others = [r["video_id"] for r in rows if "wait" not in opening_of(r["title"])][:2]
    learned = [{"opening": "wait for", "n": 80, "rate": 0.45, "ci_low": 0.3, "ci_high": 0.6, "base_rate": 0.2}]
    draft = {"title_chars": 20, "opening": ("my",), "hashtags": 2, "duration_s": 30, "publish_hour": None}
    out = _suggestions(demo_store, draft, [{"video_id": i} for i in users + others], [], learned)
    opening = [s for s in out if s["what"].startswith("open with")]
    assert len(opening) == 1 and set(opening[0]["evidence"]) == set(users) and "45%" in opening[0]["what"]
    out = _suggestions(demo_store, dict(draft, opening=opening_of("Wait for it... soup")),
                       [{"video_id": i} for i in users], [], learned)
    assert not any(s["what"].startswith("open with") for s in out)  # the draft already opens so
    out = _suggestions(demo_store, draft, [{"video_id": i} for i in others], [], learned)
    assert not any(s["what"].startswith("open with") for s in out)  # no neighbour to cite


class Trickle(BaseHTTPRequestHandler):
    mode = "slow"

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            if Trickle.mode == "slow":  # one byte a second: each read is quick, the whole is not
                for ch in json.dumps({"choices": [{"message": {"content": "x" * 50}}]}):
                    self.wfile.write(ch.encode())
                    self.wfile.flush()
                    time.sleep(1.0)
            elif Trickle.mode == "endless":
                while True:
                    self.wfile.write(b"x" * 65536)
            else:  # a reply with terminal escapes in it
                body = {"choices": [{"message": {"content": "\x1b[2J\x1b]0;owned\x07- keep the hook"}}]}
                self.wfile.write(json.dumps(body).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle(monkeypatch):
    from http.server import ThreadingHTTPServer

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv("MILES_LLM_BASE_URL", f"http://127.0.0.1:{srv.server_address[1]}/v1")
    yield
    srv.shutdown()


@pytest.mark.parametrize("mode", ["slow", "endless"])
def test_a_slow_or_endless_llm_ends_within_the_deadline(trickle, mode):
    import resource

    Trickle.mode = mode
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    text, source = llm_text({"x": 1}, "fallback text", timeout=3.0, max_bytes=1 << 20)
    assert time.perf_counter() - t < 5.0
    assert source == "deterministic" and text.startswith("fallback text")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB


def test_terminal_escapes_in_the_llm_reply_are_dropped(trickle):
    Trickle.mode = "escapes"
    text, source = llm_text({"x": 1}, "fallback", timeout=5.0)
    assert source == "llm" and "\x1b" not in text and "\x07" not in text and text.endswith("- keep the hook")
