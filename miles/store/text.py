"""The text of a video as encoders and text baselines read it."""

from __future__ import annotations

from collections.abc import Iterable


def compose_text(title: str | None, hashtags: Iterable[str] | None, description: str | None = None) -> str:
    """The title, then the hashtags it does not already contain, then the description when given."""
    title = (title or "").strip()
    low = title.lower()
    tags = [t for t in (list(hashtags) if hashtags is not None else []) if f"#{t}".lower() not in low]
    parts = [title, " ".join(f"#{t}" for t in tags)]
    if description:
        parts.append(description.strip())
    return " ".join(p for p in parts if p)
