"""A suggestion is tried on the draft and scored by the same head: its number is the model's, a change the
model does not expect to help says so, and a thumbnail edit does what it says."""

import io

import numpy as np
import pytest
from PIL import Image

from miles.queries.predict import score_draft
from miles.queries.recommend import recommend
from miles.queries.suggest import image_stats
from miles.queries.tryout import HELPS, NO, UNCLEAR, edit_thumbnail, tried, verdict


def test_every_tried_number_is_the_heads_score_of_the_changed_draft(demo_store):
    rows = demo_store.read("videos", filter="thumbnail IS NOT NULL", columns=["thumbnail"]).to_pylist()
    thumb = rows[3]["thumbnail"]
    draft = dict(title="I tried the viral ramen hack so you don't have to", duration=400.0, creator_id="creator_0001",
                 publish_at="2026-05-04T03:00:00+00:00")
    out = recommend(demo_store, thumbnail=thumb, **draft)
    base = out["draft"]["viral_probability"]
    length = [s for s in out["suggestions"] if s["what"].startswith("length") and s["tried"]["verdict"] != "untried"]
    assert length, [s["what"] for s in out["suggestions"]]
    median = float(length[0]["what"].split("(median ")[1].split(")")[0])
    again, _ = score_draft(demo_store, thumbnail=thumb, **{**draft, "duration": median}, k=0)
    assert length[0]["tried"]["delta"] == pytest.approx(again["viral_probability"] - base, abs=2e-4)
    order = [s["tried"]["verdict"] for s in out["suggestions"]]
    rank = {"helps": 0, "unclear": 1, "untried": 2, "no": 3}
    assert order == sorted(order, key=rank.get)  # what helps comes first; what doesn't, last
    for s in out["suggestions"]:
        t = s["tried"]
        if t["verdict"] == NO:
            assert "doesn't expect this to help" in t["says"]
        elif t["verdict"] in (HELPS, UNCLEAR):
            assert t["delta"] >= 0.005 and t["says"].startswith("tried on your draft: +")


def test_no_publish_time_no_timing_advice_but_a_note(demo_store):
    out = recommend(demo_store, title="ramen at home", duration=25.0)
    assert not any("publish hour" in s["what"] for s in out["suggestions"])
    assert any(n.startswith("no publish time given: timing is scored as if it went out now") for n in out["notes"])


def test_the_verdict_follows_the_number():
    assert verdict(0.03, [0.01, 0.05]) == HELPS
    assert verdict(0.03, [-0.01, 0.05]) == UNCLEAR
    assert verdict(0.001, [-0.01, 0.05]) == NO and verdict(-0.04, [-0.08, 0.0]) == NO

    def score(**change):
        return {"viral_probability": 0.10 + change["duration"] / 1000}, np.full(21, 0.10 + change["duration"] / 1000)

    base = {"viral_probability": 0.10}
    ideas = [{"what": "a", "evidence": [], "change": {"duration": 2.0}},
             {"what": "b", "evidence": [], "change": {"duration": 40.0}}, {"what": "c", "evidence": []}]
    out = tried(ideas, score, base, np.full(21, 0.10), None, {})
    assert [s["what"] for s in out] == ["b", "c", "a"]
    assert out[0]["tried"]["says"] == "tried on your draft: +4 points (+4 to +4)"
    assert out[2]["tried"]["verdict"] == NO and "change" not in out[2]


def _jpeg(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a.astype(np.uint8)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def test_brighter_and_more_contrast_reach_their_targets():
    rng = np.random.default_rng(0)
    dark = _jpeg(np.clip(rng.normal(60, 20, (160, 90, 3)), 0, 255))
    stats = image_stats(dark)
    brighter = image_stats(edit_thumbnail(dark, ("brightness", 0.45), stats))
    assert brighter["brightness"] == pytest.approx(0.45, abs=0.05)
    sharper = image_stats(edit_thumbnail(dark, ("contrast", stats["contrast"] * 2), stats))
    assert sharper["contrast"] == pytest.approx(stats["contrast"] * 2, rel=0.15)


def test_a_face_crop_fills_more_of_the_frame(demo_store):
    """A thumbnail whose face is small (a face cover shrunk onto a wide grey frame) is cropped around it: the
    face then fills more of the width and is still found."""
    rows = demo_store.read("videos", filter="thumbnail IS NOT NULL", columns=["thumbnail"]).to_pylist()
    face = next(r["thumbnail"] for r in rows if image_stats(r["thumbnail"]).get("faces"))
    small = Image.open(io.BytesIO(face)).convert("RGB")
    small = small.resize((small.width * 2 // 5, small.height * 2 // 5))
    frame = Image.new("RGB", (small.width * 5 // 2, small.height * 5 // 2), (128, 128, 128))
    frame.paste(small, (small.width // 4, small.height))
    buf = io.BytesIO()
    frame.save(buf, "JPEG", quality=95)
    stats = image_stats(buf.getvalue())
    assert stats["faces"] >= 1 and stats["face_box"][2] < 0.35
    cropped = image_stats(edit_thumbnail(buf.getvalue(), "face", stats))
    assert cropped.get("faces", 0) >= 1 and cropped["face_box"][2] > stats["face_box"][2] * 1.3
    assert edit_thumbnail(buf.getvalue(), "face", {**stats, "face_box": None}) is None
