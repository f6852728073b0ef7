"""Typed responses of the HTTP API (they make the OpenAPI schema at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Factor(BaseModel):
    kind: str
    name: str
    effect: float
    says: str
    value: float | None = None


class SimilarVideo(BaseModel):
    video_id: str
    title: str | None
    creator_id: str | None
    published_at: str
    views: int | None
    velocity: float
    relative_to_creator: float | None
    viral: bool
    similarity: float


class Label(BaseModel):
    age_hours: float | None
    viral_fraction: float
    cohort: str
    target: str


class Prediction(BaseModel):
    head: str
    moment: str
    viral_probability: float
    viral_interval: list[float] | None
    viral_probability_raw: float
    calibrated_on: int
    interval_means: str | None = None  # what the range beside P means, in one sentence
    velocity: float
    velocity_interval: list[float] | None
    velocity_interval_means: str | None = None
    label: Label
    card: dict[str, Any] | None = None  # the prediction in a creator's words (miles.queries.card)
    factors: list[Factor]
    similar: list[SimilarVideo]
    notes: list[str]
    inputs: dict[str, float | None]
    timings_ms: dict[str, float]


class LivePrediction(BaseModel):
    """A stored video scored at the latest moment its age allows (``miles predict --video-id --json``)."""
    video_id: str
    head: str
    moment: str  # pre_upload, early_1h, early_6h or early_24h
    scored_at: str
    age_hours: float
    viral_probability: float
    viral_interval: list[float] | None
    viral_probability_raw: float
    interval_means: str | None = None
    velocity: float
    velocity_interval: list[float] | None
    velocity_interval_means: str | None = None
    label: Label
    card: dict[str, Any]
    factors: list[Factor]
    progress: dict[str, Any]  # views so far, the creator's usual at that age, the neighbours' views at 1/6/24 h
    notes: list[str]
    untrained_moments: list[str]  # moments the video's age has reached that no trained head serves
    inputs: dict[str, float | None]


class Tried(BaseModel):
    """A suggestion applied to the draft and scored by the same head ("untried" when it cannot be applied)."""
    verdict: str  # helps, unclear, no, untried
    viral_probability: float | None = None
    delta: float | None = None
    delta_interval: list[float] | None = None
    says: str | None = None


class Suggestion(BaseModel):
    what: str
    evidence: list[str]
    pattern: str | None = None
    tried: Tried


class Variant(BaseModel):
    kind: str
    variant: str
    given: int  # its place among the variants of its kind as given, from 1
    viral_probability: float
    delta: float
    delta_interval: list[float] | None
    change: str  # the delta and its interval in points
    velocity: float
    delta_velocity: float
    why: list[str]
    thumbnail: dict[str, Any] | None = None


class Recommendation(BaseModel):
    draft: dict[str, Any]
    measured: dict[str, Any]
    factors: list[Factor]
    similar: list[SimilarVideo]
    notes: list[str]
    suggestions: list[Suggestion]
    variants: list[Variant]
    verdict: str | None  # the ranking in one sentence: a clear winner, or not
    text: str
    text_source: str


class VideoDetail(BaseModel):
    video: dict[str, Any]
    snapshots: list[dict[str, Any]]
    label: dict[str, Any] | None


class Info(BaseModel):
    store: str
    tables: dict[str, int]
    encoders: dict[str, dict[str, Any]]
    heads: list[dict[str, Any]]
    deployed: str


class Health(BaseModel):
    status: str
