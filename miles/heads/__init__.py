"""Heads: the label spec, the feature registry, feature assembly, and the models that train on them."""

from __future__ import annotations

from miles.heads.features import MOMENTS, REGISTRY, Feature, available, moment_hours
from miles.heads.history import creator_history
from miles.heads.labels import LabelSpec, compute_outcomes, label

__all__ = [
    "MOMENTS",
    "REGISTRY",
    "Feature",
    "LabelSpec",
    "available",
    "compute_outcomes",
    "creator_history",
    "label",
    "moment_hours",
]
