import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from miles.queries.faces import count_faces, detect_faces, stratified_scores
from miles.sources.demo import NICHES
from miles.sources.drawn import thumbnail_image
from tests.conftest import jpeg_bytes, shared

skdata = pytest.importorskip("skimage.data")
LABELS = Path(__file__).resolve().parents[1] / "data" / "bilibili_face_labels.json"


def test_the_astronaut_has_one_face_where_it_is():
    (x, y, w, h), = detect_faces(skdata.astronaut())
    assert 150 < x + w / 2 < 260 and 60 < y + h / 2 < 170 and 60 < w < 140


def test_boxes_come_back_in_the_image_own_pixels():
    small = Image.fromarray(skdata.astronaut())
    buf = io.BytesIO()
    small.resize((1024, 1024)).save(buf, format="JPEG", quality=90)
    (x1, y1, w1, _), = detect_faces(small)
    (x2, y2, w2, _), = detect_faces(buf.getvalue())  # shrunk to 480 px inside, scaled back
    assert abs(x2 - 2 * x1) < 12 and abs(y2 - 2 * y1) < 12 and abs(w2 - 2 * w1) < 16


def test_lfw_faces_found_and_non_faces_not():
    crops = (skdata.lfw_subset() * 255).astype(np.uint8)  # 100 faces, then 100 non-faces
    found = np.array([count_faces(np.pad(c.repeat(4, 0).repeat(4, 1), 25, mode="edge")) > 0 for c in crops])
    assert found[:100].mean() >= 0.9
    assert found[100:].mean() <= 0.05


def test_photos_without_people_rarely_get_a_face():
    names = ["camera", "coffee", "chelsea", "rocket", "coins", "horse", "moon", "page", "text", "brick", "grass",
             "gravel", "cell", "hubble_deep_field", "retina", "logo", "immunohistochemistry", "clock"]
    assert sum(count_faces(getattr(skdata, n)()) > 0 for n in names) <= 3


def test_demo_thumbnails_with_faces_are_told_apart():
    rng = np.random.default_rng(5)
    names = list(NICHES)
    truth = np.arange(60) % 2 == 1
    found = np.array([count_faces(thumbnail_image(rng, NICHES[names[i % len(names)]], float(rng.beta(2, 2)),
                                             float(rng.beta(2, 2)), bool(truth[i]), None)) > 0 for i in range(60)])
    assert found[truth].mean() >= 0.9 and found[~truth].mean() <= 0.05


def test_bad_and_tiny_images():
    with pytest.raises(ValueError, match="not a decodable image"):
        detect_faces(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert count_faces(jpeg_bytes(size=(16, 16))) == 0
    assert count_faces(jpeg_bytes(size=(640, 360))) == 0  # a flat colour


def test_stratified_scores_weights_strata():
    strata = {"a": {"population": 100, "labels": {"x1": 1, "x2": 0}},
              "b": {"population": 1000, "labels": {"y1": 1, "y2": 0}}}
    found = {"x1": True, "x2": True, "y1": False, "y2": False}
    sc = stratified_scores(strata, found, n_boot=50)
    # tp = 50, fp = 50, fn = 500
    assert sc["precision"] == pytest.approx(0.5) and sc["recall"] == pytest.approx(50 / 550)
    with pytest.raises(KeyError, match="no detection"):
        stratified_scores(strata, {"x1": True})


@pytest.mark.shared_data
def test_real_covers_against_hand_labels():
    covers = shared("bilibili-covers-dev") / "covers"
    doc = json.loads(LABELS.read_text())
    found = {i: count_faces((covers / f"{i}.jpg").read_bytes()) > 0
             for s in doc["strata"].values() for i in s["labels"]}
    sc = stratified_scores(doc["strata"], found, n_boot=200)
    assert sc["precision"] >= 0.8 and sc["recall"] >= 0.75
