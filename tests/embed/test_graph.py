"""Saved encoder graphs: the vectors of the full encoders, loaded without transformers or timm."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from miles.embed.graph import GraphTextEncoder, cache_dir, load_graph, save_graph
from miles.embed.registry import create_encoder
from miles.store.files import sha256
from tests.embed.test_encoders import TEXTS


@pytest.fixture(scope="module")
def saved():
    full = {"text": create_encoder("minilm"), "image": create_encoder("efficientnet_lite0")}
    for enc in full.values():
        assert save_graph(enc) is not None
    return full


def _fp(enc) -> dict:
    return json.loads(enc.fingerprint.to_json())


def test_text_graph_gives_the_full_encoders_vectors_and_token_counts(saved):
    full = saved["text"]
    fast = load_graph(_fp(full))
    assert isinstance(fast, GraphTextEncoder) and fast.fingerprint.identity() == full.fingerprint.identity()
    texts = TEXTS + ["word " * 300, "주식 단타야수의 세계", "Wait for it... ramen hack #food"]
    assert np.abs(fast.encode_texts(texts) - full.encode_texts(texts)).max() < 1e-5
    assert fast.text_lengths(texts) == full.text_lengths(texts)  # the same tokens, truncated alike
    assert fast.encode_texts([]).shape == (0, 384)


def test_image_graph_gives_the_full_encoders_vectors(saved):
    from miles.sources.demo import NICHES
    from miles.sources.drawn import thumbnail_image

    full = saved["image"]
    fast = load_graph(_fp(full))
    assert fast is not None and fast.fingerprint.identity() == full.fingerprint.identity()
    rng = np.random.default_rng(0)
    import io

    from PIL import Image

    imgs = [Image.open(io.BytesIO(thumbnail_image(rng, NICHES["cooking"], 0.5, 0.5, i % 2 == 0, None)))
            for i in range(3)]
    a = fast.encode_images(np.stack([fast.preprocess(im) for im in imgs]))
    b = full.encode_images(torch.stack([full.preprocess(im) for im in imgs]))
    assert np.abs(a - b).max() < 1e-5
    assert fast.encode_images(np.zeros((0, 3, 224, 224), np.uint8)).shape == (0, 1280)


def test_another_fingerprint_or_no_graph_means_the_full_encoder(saved, tmp_path, monkeypatch):
    fp = _fp(saved["text"])
    assert load_graph({**fp, "weights_sha256": "0" * 64}) is None  # other weights: never this graph
    assert load_graph({**fp, "preprocessing": {**fp["preprocessing"], "max_length": 128}}) is None
    recipe = {**fp, "preprocessing": {**fp["preprocessing"], "text": "title+hashtags"}}
    assert load_graph(recipe) is not None  # a table's text recipe says what was read, not how
    monkeypatch.setenv("MILES_CACHE_DIR", str(tmp_path / "empty"))
    assert load_graph(fp) is None
    assert not cache_dir().exists()  # looking does not create anything


def test_a_loaded_graph_does_not_import_torch_transformers_or_timm(saved):
    fps = [_fp(saved["text"]), _fp(saved["image"])]
    code = ("import json, sys; from miles.embed.graph import load_graph\n"
            f"encs = [load_graph(fp) for fp in json.loads({json.dumps(json.dumps(fps))})]\n"
            "assert all(e is not None for e in encs)\n"
            "v = encs[0].encode_texts(['ramen hack'])\n"
            "print(sorted(m for m in ('torch', 'transformers', 'timm', 'shap') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_an_export_that_differs_from_the_model_is_not_kept(saved, tmp_path, monkeypatch):
    import miles.embed.graph as graph

    monkeypatch.setenv("MILES_CACHE_DIR", str(tmp_path / "strict"))
    monkeypatch.setattr(graph, "TOLERANCE", -1.0)  # no export can pass: as if ONNX computed another function
    assert save_graph(saved["image"]) is None
    assert load_graph(_fp(saved["image"])) is None and not list(cache_dir().glob("*.onnx"))


def _constant_graph(path, dim: int) -> None:
    """An ONNX graph with the image graph's input and output that gives every thumbnail the same vector."""
    import warnings

    class Constant(torch.nn.Module):
        def forward(self, pixels):
            return torch.ones(pixels.shape[0], dim) + 0 * pixels.mean()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Constant(), (torch.zeros(2, 3, 224, 224),), str(path), input_names=["pixels"],
                          output_names=["out"], dynamic_axes={"pixels": {0: "n"}, "out": {0: "n"}}, dynamo=False)


@pytest.mark.parametrize("rewrite_hash", [False, True])
def test_a_replaced_graph_is_refused_removed_and_exported_again(saved, tmp_path, monkeypatch, rewrite_hash):
    import miles.embed.graph as graph
    from miles.queries.encode import _encoder

    monkeypatch.setenv("MILES_CACHE_DIR", str(tmp_path / f"cache-{rewrite_hash}"))
    full = saved["image"]
    path = save_graph(full)
    _constant_graph(path, full.dim)  # a graph that returns a constant
    if rewrite_hash:  # whoever replaced it also rewrote the recorded hash: the probe still differs
        meta_path = path.with_suffix(".json")
        meta = json.loads(meta_path.read_text())
        meta["sha256"]["onnx"] = sha256(path)
        meta_path.write_text(json.dumps(meta))
    assert load_graph(_fp(full)) is None and not path.exists()  # refused and removed
    enc = _encoder(full.fingerprint.to_json())  # what a query does next: the full encoder, which saves it again
    assert path.exists() and load_graph(_fp(full)) is not None
    assert np.abs(graph.probe(enc) - graph.probe(full)).max() < 1e-5
