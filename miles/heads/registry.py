"""Heads built by name: ``create_head("lightgbm", task="viral", ...)``, ``list_heads()``.

- ``baseline``: TF-IDF + logistic regression on titles (the original project's baseline).
- ``creator_prior``: the creator's trailing median velocity (the one to beat).
- ``lightgbm``: LightGBM on metadata and PCA-reduced embeddings, early stopping.
- ``mlp``: the PyTorch fusion MLP (``miles.heads.mlp``), imported only when asked for.
"""

from __future__ import annotations

HEADS = {
    "baseline": "TF-IDF + logistic regression on titles (the original project's baseline)",
    "creator_prior": "the creator's trailing median velocity (the one to beat)",
    "lightgbm": "LightGBM on metadata and PCA-reduced embeddings, early stopping",
    "mlp": "PyTorch fusion MLP: per-modality projections, two outputs (viral logit, velocity)",
}
CLASS_NAMES = {"baseline": "BaselineHead", "creator_prior": "CreatorPriorHead", "lightgbm": "LightGBMHead",
               "mlp": "MLPHead"}


def list_heads() -> list[str]:
    return list(HEADS)


def head_class(name: str):
    """The class of a head, by registry name (``lightgbm``) or class name (``LightGBMHead``)."""
    by_class = {v: k for k, v in CLASS_NAMES.items()}
    key = by_class.get(name, name)
    if key not in HEADS:
        raise ValueError(f"unknown head {name!r}; valid: {', '.join(HEADS)}")
    if key == "mlp":
        from miles.heads.mlp import MLPHead

        return MLPHead
    from miles.heads import models

    return getattr(models, CLASS_NAMES[key])


def restoring_class(class_name: str):
    """The class that rebuilds a saved head of ``class_name``: a LightGBM head loads as a ``BoosterHead``
    (the booster without scikit-learn, for fast predictions), the others as themselves."""
    if class_name == "LightGBMHead":
        from miles.heads.booster import BoosterHead

        return BoosterHead
    return head_class(class_name)


def create_head(name: str, **params):
    return head_class(name)(**params)
