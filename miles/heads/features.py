"""The feature registry: every feature declares the moment it becomes available.

A prediction moment is ``pre_upload`` (before publishing) or ``early_<h>h`` (h hours after). A head for a
moment may use only features available at it: ``available(moment)`` is that list, and the leak test
checks every feature against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from miles.errors import MilesError

MOMENTS = ("pre_upload", "early_1h", "early_6h", "early_24h")
_EARLY = re.compile(r"^early_(\d+(?:\.\d+)?)h$")


def moment_hours(moment: str) -> float:
    """Hours after publishing at which the moment falls: 0 for ``pre_upload``."""
    if moment == "pre_upload":
        return 0.0
    m = _EARLY.match(moment)
    if not m:
        raise MilesError(f"unknown moment {moment!r}; valid: pre_upload or early_<h>h, e.g. {', '.join(MOMENTS)}")
    return float(m.group(1))


@dataclass(frozen=True)
class Feature:
    name: str
    group: str  # title, thumbnail, creator, timing, format, early engagement
    available_at: str  # a moment
    description: str

    @property
    def hours(self) -> float:
        return moment_hours(self.available_at)


REGISTRY: dict[str, Feature] = {}


def register(name: str, group: str, available_at: str, description: str) -> Feature:
    moment_hours(available_at)  # validates
    if name in REGISTRY:
        raise ValueError(f"feature {name!r} is registered twice")  # internal: a bug, not input
    REGISTRY[name] = f = Feature(name, group, available_at, description)
    return f


register("duration_s", "format", "pre_upload", "video length in seconds")
register("publish_hour", "timing", "pre_upload", "hour of day of publishing (UTC)")
register("publish_weekday", "timing", "pre_upload", "day of week of publishing (0 = Monday)")
register("title_chars", "format", "pre_upload", "title length in characters")
register("title_words", "format", "pre_upload", "title length in words")
register("hashtag_count", "format", "pre_upload", "number of hashtags")
register("has_thumbnail", "format", "pre_upload", "a thumbnail image is present")
register("log_followers", "creator", "pre_upload", "log10 of creator followers at the last observation before upload")
register("creator_prior", "creator", "pre_upload", "median velocity of the creator's earlier videos with known outcome")
register("creator_n_prior", "creator", "pre_upload", "how many earlier videos the creator prior is built on")
register("text_embedding", "title", "pre_upload", "title + hashtags text embedding")
register("image_embedding", "thumbnail", "pre_upload", "thumbnail image embedding")
for _h in (1, 6, 24):
    register(f"log_views_{_h}h", "early engagement", f"early_{_h}h", f"log10 views observed by {_h} h after publishing")
    register(f"log_likes_{_h}h", "early engagement", f"early_{_h}h", f"log10 likes observed by {_h} h after publishing")
    register(f"like_rate_{_h}h", "early engagement", f"early_{_h}h", f"likes / views observed by {_h} h")
    register(f"snap_age_{_h}h", "early engagement", f"early_{_h}h",
             f"hours after publishing of the snapshot the {_h} h counts come from")

FRESH = 0.5  # a snapshot stands for the h-hour counts only when it is at least h * FRESH hours old


def scalar_names(moment: str) -> list[str]:
    """The scalar features of ``moment`` in registry order (the embeddings are blocks of their own): the
    columns of a feature row, and of every head's metadata block."""
    return [f.name for f in available(moment) if f.group not in ("title", "thumbnail")]


def early_hours(moment: str) -> list[float]:
    """The hours of the early snapshots ``moment`` reads (none before upload)."""
    return sorted({f.hours for f in available(moment) if f.group == "early engagement"})


def available(moment: str) -> list[Feature]:
    """Features available at ``moment`` (those whose availability is at or before it)."""
    hours = moment_hours(moment)
    return [f for f in REGISTRY.values() if f.hours <= hours]
