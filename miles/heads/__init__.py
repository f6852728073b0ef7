"""Heads: the label spec, the feature registry, feature assembly, and the models that train on them."""

from __future__ import annotations

from miles.heads.features import MOMENTS, REGISTRY, Feature, available, moment_hours
from miles.heads.history import creator_history
from miles.heads.labels import FittedLabels, LabelSpec, compute_outcomes

__all__ = [
    "MOMENTS",
    "REGISTRY",
    "Feature",
    "FittedLabels",
    "LabelSpec",
    "available",
    "compute_outcomes",
    "creator_history",
    "moment_hours",
]
