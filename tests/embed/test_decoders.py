"""The thumbnail decoders: Pillow (draft mode) and torchvision's batch decoder (nvJPEG on CUDA)."""

import numpy as np
import pytest
import torch

from miles.embed.image import ImagePreprocess
from miles.embed.job import EmbedConfig, embed
from miles.embed.reader import choose_decoder, crop_resize, decode, decode_batch_torch, thumbnail_batches
from miles.sources.demo import NICHES
from miles.sources.drawn import thumbnail_image
from tests.conftest import ingested_store, jpeg_bytes

EFFNET = ImagePreprocess()
RESNET = ImagePreprocess(interpolation="bilinear", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


def demo_jpegs(n=24):
    rng = np.random.default_rng(0)
    names = list(NICHES)
    return [thumbnail_image(rng, NICHES[names[i % len(names)]], 0.5, 0.5, i % 2 == 1, "WOW" if i % 3 else None)
            for i in range(n)]


def gradient_jpeg(mode: str, progressive: bool = False) -> bytes:
    import io

    from PIL import Image

    y, x = np.mgrid[0:300, 0:200]
    img = np.stack([x * 255 / 200, y * 255 / 300, (x + y) * 255 / 500], -1).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).convert(mode).save(buf, format="JPEG", progressive=progressive)
    return buf.getvalue()


@pytest.mark.parametrize("pre", [EFFNET, RESNET], ids=["bicubic", "bilinear"])
def test_torchvision_pixels_match_pillow(pre):
    datas = demo_jpegs() + [jpeg_bytes((1280, 720), (10, 200, 30)), jpeg_bytes((97, 301), (250, 250, 0)),
                            gradient_jpeg("L"), gradient_jpeg("CMYK"), gradient_jpeg("RGB", progressive=True)]
    a = torch.stack([decode(d, pre) for d in datas]).float()
    b = torch.stack(decode_batch_torch(datas, pre)).float()
    assert a.shape == b.shape == (len(datas), 3, pre.crop, pre.crop)
    assert (a - b).abs().mean() < 1.0  # grey levels, out of 255
    assert (a - b).abs().amax(dim=(1, 2, 3)).median() < 40


def test_crop_resize_takes_the_centre():
    x = torch.zeros(3, 300, 600, dtype=torch.uint8)
    x[:, :, 150:450] = 255  # the centre square is white, the sides black
    out = crop_resize(x, EFFNET)
    assert out.shape == (3, 224, 224) and out.dtype == torch.uint8
    assert out.float().mean() > 250


def test_a_bad_file_in_a_batch_fails_alone_and_pngs_go_through_pillow():
    good = demo_jpegs(3)
    png = jpeg_bytes((120, 80), fmt="PNG")
    out = decode_batch_torch([good[0], b"\xff\xd8\xff\xe0 broken", png, good[1], b"not an image"], EFFNET)
    assert isinstance(out[1], Exception) and isinstance(out[4], Exception)
    for i in (0, 2, 3):
        assert isinstance(out[i], torch.Tensor) and out[i].shape == (3, 224, 224)
    assert torch.equal(out[0], decode_batch_torch([good[0]], EFFNET)[0])


def test_job_with_the_torchvision_decoder_matches_pillow(tmp_path):
    from miles.embed.registry import create_encoder

    enc = {"image": create_encoder("efficientnet_lite0")}
    stores = [ingested_store(tmp_path / name, videos=24) for name in ("a", "b")]  # the same demo data twice
    for store in stores:
        rows = store.read("videos", filter="thumbnail IS NOT NULL").to_pylist()[:1]
        rows[0]["thumbnail"], rows[0]["content_hash"] = b"\xff\xd8\xff corrupt", "corrupt"
        store.upsert("videos", rows)
    a, b = (embed(store, EmbedConfig(progress=False, modalities=("image",), decoder=d, batch_size=8), enc)["image"]
            for store, d in zip(stores, ("pil", "torchvision")))
    va, vb = ({r["video_id"]: np.array(r["vector"]) for r in s.read("emb_image_efficientnet_lite0").to_pylist()}
              for s in stores)
    assert a.decoder == "pil" and b.decoder == "torchvision" and "decoder torchvision" in b.line()
    assert [v for v, _ in a.failed] == [v for v, _ in b.failed] == [rows[0]["video_id"]]
    assert va.keys() == vb.keys() and len(va) == a.encoded
    assert min(float(va[k] @ vb[k]) for k in va) > 0.98


def test_decoder_choice_on_cpu(tmp_path):
    store = ingested_store(tmp_path, videos=8)
    ids = store.read("videos", columns=["video_id"])["video_id"].to_pylist()
    assert choose_decoder(store, ids, EFFNET, "cpu", 1) == ("pil", {})
    with pytest.raises(ValueError, match="needs --device cuda"):
        embed(store, EmbedConfig(progress=False, modalities=("image",), decoder="nvjpeg", device="cpu"))
    with pytest.raises(ValueError, match="must be 'pil' or 'torchvision'"):
        next(thumbnail_batches(store, ids, EFFNET, decoder="cv2"))


@pytest.mark.gpu
def test_nvjpeg_matches_the_cpu_decoders():
    datas = demo_jpegs() + [jpeg_bytes((1280, 720), (10, 200, 30))]
    cpu = torch.stack(decode_batch_torch(datas, EFFNET, "cpu")).float()
    gpu = torch.stack(decode_batch_torch(datas, EFFNET, "cuda")).float().cpu()
    pil = torch.stack([decode(d, EFFNET) for d in datas]).float()
    assert (cpu - gpu).abs().mean() < 1.0 and (pil - gpu).abs().mean() < 1.5


@pytest.mark.gpu
def test_job_on_cuda_with_nvjpeg(tmp_path):
    from miles.embed.registry import create_encoder

    gpu_store, cpu_store = (ingested_store(tmp_path / name, videos=40) for name in ("gpu", "cpu"))
    rep = embed(gpu_store, EmbedConfig(progress=False, modalities=("image",), decoder="nvjpeg", batch_size=16),
                {"image": create_encoder("efficientnet_lite0", device="cuda")})["image"]
    assert rep.decoder == "nvjpeg" and rep.encoded == rep.todo and not rep.failed
    embed(cpu_store, EmbedConfig(progress=False, modalities=("image",), decoder="pil", device="cpu"),
          {"image": create_encoder("efficientnet_lite0")})
    vg, vc = ({r["video_id"]: np.array(r["vector"]) for r in s.read("emb_image_efficientnet_lite0").to_pylist()}
              for s in (gpu_store, cpu_store))
    store = gpu_store
    assert vg.keys() == vc.keys() and min(float(vg[k] @ vc[k]) for k in vg) > 0.97
    auto = choose_decoder(store, sorted(vg), EFFNET, "cuda", 4)
    assert auto[0] in ("pil", "torchvision") and set(auto[1]) == {"pil", "nvjpeg"}
