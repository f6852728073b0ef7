"""Suggestions from the neighbours and the head's patterns: said as what those videos did, each applicable
one carrying the change that is tried on the model; the publish hour only when the creator gave one."""

from datetime import datetime, timezone

from miles.heads.openings import opening_of
from miles.queries.faces import count_faces
from miles.queries.suggest import _lead, from_neighbours, from_patterns, num

DRAFT = {"title": "my soup", "title_chars": 20, "opening": ("my",), "tags": ["soup", "food"], "hashtags": 2,
         "duration_s": 30, "publish_at": None, "publish_hour": None, "brightness": 0.5, "contrast": 0.2, "faces": 0}


def test_faces_suggestion_cites_the_neighbours_with_faces(demo_store):
    rows = demo_store.read("videos", filter="thumbnail IS NOT NULL", columns=["video_id", "thumbnail"]).to_pylist()
    faced = [r["video_id"] for r in rows[:80] if count_faces(r["thumbnail"]) > 0][:3]
    plain = [r["video_id"] for r in rows[:80] if count_faces(r["thumbnail"]) == 0][:1]
    assert len(faced) == 3 and plain
    out = from_neighbours(demo_store, DRAFT, [{"video_id": i} for i in faced + plain], [])
    face = [s for s in out if s["what"].startswith("a face")]
    assert len(face) == 1 and "3 of the 4" in face[0]["what"] and set(face[0]["evidence"]) == set(faced)
    assert "change" not in face[0]  # a face cannot be added mechanically: evidence only
    out = from_neighbours(demo_store, dict(DRAFT, faces=1), [{"video_id": i} for i in faced + plain], [])
    assert not any(s["what"].startswith("a face") for s in out)


def test_ranges_are_what_the_neighbours_did_and_carry_their_change(demo_store):
    rows = demo_store.read("videos", columns=["video_id", "duration_s"]).to_pylist()[:5]
    out = from_neighbours(demo_store, dict(DRAFT, duration_s=5000.0), [{"video_id": r["video_id"]} for r in rows], [])
    length = next(s for s in out if s["what"].startswith("length"))
    assert "similar videos that broke out have" in length["what"] and "yours has 5,000 s" in length["what"]
    assert "consider" not in length["what"] and "e+" not in length["what"]  # not a rule, not 5e+03
    assert length["change"]["duration"] == round(sorted(r["duration_s"] for r in rows)[2], 1)  # their median


def test_publish_hour_is_suggested_only_when_given(demo_store):
    patterns = {"publish_hour": [{"lo": 0, "hi": 11, "n": 100, "effect": 0.5}, {"lo": 12, "hi": 23, "n": 100, "effect": 0.0}]}
    assert from_patterns(patterns, {"publish_hour": 14.0}, DRAFT) == []  # "now" is not the creator's plan
    at = datetime(2026, 5, 4, 14, 30, tzinfo=timezone.utc)
    out = from_patterns(patterns, {"publish_hour": 14.0}, dict(DRAFT, publish_at=at, publish_hour=14))
    assert len(out) == 1 and out[0]["change"]["publish_at"] == datetime(2026, 5, 4, 5, 0, tzinfo=timezone.utc)


def test_pattern_suggestions_need_a_real_gap_and_enough_rows():
    patterns = {
        "duration_s": [{"lo": 5, "hi": 15, "n": 100, "effect": 0.4}, {"lo": 15, "hi": 40, "n": 100, "effect": 0.0},
                       {"lo": 40, "hi": 60, "n": 100, "effect": -0.3}],
        "hashtag_count": [{"lo": 0, "hi": 2, "n": 100, "effect": 0.05}, {"lo": 2, "hi": 5, "n": 100, "effect": 0.0}],
        "title_chars": [{"lo": 0, "hi": 30, "n": 5, "effect": 1.0}, {"lo": 30, "hi": 60, "n": 100, "effect": 0.0}],
    }
    inputs = {"duration_s": 55.0, "hashtag_count": 3, "title_chars": 45}
    out = from_patterns(patterns, inputs, DRAFT)
    assert [s["pattern"] for s in out] == ["duration_s"]
    what = out[0]["what"]
    assert "rates 5–15 s highest" in what and "(55 s)" in what and "×0.50 the odds of that" in what  # e^(-0.3-0.4)
    assert out[0]["change"] == {"duration": 10.0}
    assert from_patterns(patterns, dict(inputs, duration_s=10.0), DRAFT) == []


def test_opening_suggestion_cites_the_neighbours_that_use_it(demo_store):
    """An opening learned from training rows is suggested only when a similar viral video opens with it and
    the draft does not; the change puts that video's lead in front of the draft's title."""
    rows = demo_store.read("videos", columns=["video_id", "title"]).to_pylist()
    users = [r["video_id"] for r in rows if "wait for" in opening_of(r["title"])][:2]
    others = [r["video_id"] for r in rows if "wait" not in opening_of(r["title"])][:2]
    learned = [{"opening": "wait for", "n": 80, "rate": 0.45, "ci_low": 0.3, "ci_high": 0.6, "base_rate": 0.2}]
    out = from_neighbours(demo_store, DRAFT, [{"video_id": i} for i in users + others], learned)
    opening = [s for s in out if s["what"].startswith("open with")]
    assert len(opening) == 1 and set(opening[0]["evidence"]) == set(users) and "45%" in opening[0]["what"]
    assert opening[0]["change"]["title"].lower().startswith("wait for") and opening[0]["change"]["title"].endswith("my soup")
    out = from_neighbours(demo_store, dict(DRAFT, opening=opening_of("Wait for it... soup")),
                          [{"video_id": i} for i in users], learned)
    assert not any(s["what"].startswith("open with") for s in out)  # the draft already opens so
    out = from_neighbours(demo_store, DRAFT, [{"video_id": i} for i in others], learned)
    assert not any(s["what"].startswith("open with") for s in out)  # no neighbour to cite


def test_a_lead_runs_to_its_punctuation():
    assert _lead("Wait for it... crispy tofu", "wait for") == "Wait for it..."
    assert _lead("POV: you finally tried tofu", "pov") == "POV:"
    assert _lead("wait for the end of this very long title", "wait for") == "wait for the end of this"
    assert num(5000.0) == "5,000" and num(17.72) == "17.7" and num(0.30211) == "0.302"
