"""Heads built by name, and what each one reads and gives: the one list of heads.

    create_head("lightgbm", task="viral", block_sizes={...})
    list_heads()                   # ["baseline", "creator_prior", "lightgbm", "mlp"]: CLI choices, eval, train
    head_kind("mlp").reads         # "blocks": every feature block; "title": the text; "prior": the prior column

Every place that treats heads differently asks the head's ``HeadKind`` (what it reads, whether LightGBM's
own TreeSHAP explains it, whether one model gives both outputs, whether it needs creator ids) instead of
comparing names, so a new head is one entry here and its class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from miles.errors import MilesError


@dataclass(frozen=True)
class HeadKind:
    name: str
    description: str
    class_name: str
    words: str  # how a reader names it in a sentence
    reads: Literal["title", "prior", "blocks"]  # the title text, the creator-prior column, or every block
    explains: bool = False  # TreeSHAP contributions (predict's factors, the report's SHAP summary)
    joint: bool = False  # one model gives P(viral) and velocity (else a model per task)
    needs_creators: bool = False  # meaningless without creator ids
    module: str = "miles.heads.models"  # where the class lives (imported only when the head is built)


KINDS = (
    HeadKind("baseline", "TF-IDF + logistic regression on titles (the original project's baseline)", "BaselineHead",
             "the title-only TF-IDF baseline", "title"),
    HeadKind("creator_prior", "the creator's trailing median velocity (the one to beat)", "CreatorPriorHead",
             "the creator's own track record", "prior", needs_creators=True),
    HeadKind("lightgbm", "LightGBM on metadata and PCA-reduced embeddings, early stopping", "LightGBMHead",
             "LightGBM", "blocks", explains=True),
    HeadKind("mlp", "PyTorch fusion MLP: per-modality projections, two outputs (viral logit, velocity)", "MLPHead",
             "the fusion MLP", "blocks", joint=True, module="miles.heads.mlp"),
)
HEADS = {k.name: k for k in KINDS}
DEFAULT_HEAD = "lightgbm"  # what predict, recommend and serve use unless told otherwise


def list_heads() -> list[str]:
    return list(HEADS)


def head_kind(name: str) -> HeadKind:
    """The head's kind, by registry name (``lightgbm``) or class name (``LightGBMHead``)."""
    by_class = {k.class_name: k for k in KINDS}
    kind = HEADS.get(name) or by_class.get(name)
    if kind is None:
        raise MilesError(f"unknown head {name!r}; valid: {', '.join(HEADS)}")
    return kind


def head_class(name: str):
    """The class of a head, by registry name (``lightgbm``) or class name (``LightGBMHead``)."""
    import importlib

    kind = head_kind(name)
    return getattr(importlib.import_module(kind.module), kind.class_name)  # torch only for the MLP


def restoring_class(class_name: str):
    """The class that rebuilds a saved head of ``class_name``: a LightGBM head loads as a ``BoosterHead``
    (the booster without scikit-learn, for fast predictions), the others as themselves."""
    if class_name == "LightGBMHead":
        from miles.heads.booster import BoosterHead

        return BoosterHead
    return head_class(class_name)


def create_head(name: str, **params):
    return head_class(name)(**params)
