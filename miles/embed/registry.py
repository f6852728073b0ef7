"""Encoders built by name, from a plain registry (as timm builds models).

    >>> enc = create_encoder("minilm")  # or "multilingual", "efficientnet_lite0", "bert-base-uncased", "resnet50"
    >>> list_encoders("image"), PRESETS["offline"]

The registry names each factory by module and function, and imports the module only when asked, so
listing encoders imports no model library, and the encoders' modules never import this one.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from miles.embed.base import Encoder, Modality, resolve_device, table_safe
from miles.errors import MilesError

# name -> (modality, "module:factory", description)
ENCODERS: dict[str, tuple[Modality, str, str]] = {
    "minilm": ("text", "miles.embed.text:minilm", "all-MiniLM-L6-v2, packaged (384-d); offline preset"),
    "minilm_int8": ("text", "miles.embed.int8:minilm_int8",
                    "all-MiniLM-L6-v2 with 8-bit weights in ONNX Runtime (384-d): faster on a CPU, near MiniLM's vectors"),
    "multilingual": ("text", "miles.embed.multilingual:multilingual",
                     "multilingual-e5-small, 4-bit, ~100 languages (384-d); extra: miles[multilingual]"),
    "bert-base-uncased": ("text", "miles.embed.text:bert_base_uncased",
                          "BERT base uncased (768-d), from the HF cache; paper preset"),
    "efficientnet_lite0": ("image", "miles.embed.image:efficientnet_lite0",
                           "EfficientNet-Lite0 ImageNet, packaged (1280-d); offline preset"),
    "resnet50": ("image", "miles.embed.image:resnet50",
                 "torchvision ResNet-50 ImageNet (2048-d), from TORCH_HOME; paper preset"),
}

PRESETS: dict[str, dict[Modality, str]] = {
    "offline": {"text": "minilm", "image": "efficientnet_lite0"},
    "paper": {"text": "bert-base-uncased", "image": "resnet50"},
    "multilingual": {"text": "multilingual", "image": "efficientnet_lite0"},
}


def list_encoders(modality: Modality | None = None) -> list[str]:
    return sorted(n for n, (m, _, _) in ENCODERS.items() if modality is None or m == modality)


def describe_encoders() -> dict[str, str]:
    return {n: f"{m}: {d}" for n, (m, _, d) in sorted(ENCODERS.items())}


def create_encoder(name: str, device: str = "cpu", **kwargs: Any) -> Encoder:
    """Build an encoder by registry name, or a text encoder from a local Hugging Face model folder."""
    if name in ENCODERS:
        module, factory = ENCODERS[name][1].split(":")
        enc = getattr(import_module(module), factory)(**kwargs)
    elif Path(name).is_dir() and (Path(name) / "config.json").exists():
        from miles.embed.text import HFTextEncoder

        enc = HFTextEncoder(Path(name), name=table_safe(Path(name).name), **kwargs)
    else:
        raise MilesError(
            f"unknown encoder {name!r}; valid: {', '.join(list_encoders())}, or a local Hugging Face model folder"
        )
    return enc.to(resolve_device(device))


def preset_encoders(preset: str) -> dict[Modality, str]:
    if preset not in PRESETS:
        raise MilesError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    return dict(PRESETS[preset])
