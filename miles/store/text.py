"""The text of a video as encoders and text baselines read it, and the recipe that says which parts.

The recipe is part of a text encoder's fingerprint (``preprocessing["text"]``): a table made from titles
and hashtags never mixes with one made with descriptions too, and the video's ``content_hash`` covers
every part a recipe may read, so an edited hashtag or description re-encodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TextRecipe:
    description: bool = False

    @property
    def name(self) -> str:
        return "title+hashtags+description" if self.description else "title+hashtags"


def text_recipe(fingerprint: dict) -> TextRecipe:
    """The recipe recorded in a text table's fingerprint (tables from before recipes were recorded hold
    titles and hashtags)."""
    return TextRecipe(description=fingerprint.get("preprocessing", {}).get("text") == TextRecipe(True).name)


def compose_text(title: str | None, hashtags: Iterable[str] | None, description: str | None = None) -> str:
    """The title, then the hashtags it does not already contain, then the description when given."""
    title = (title or "").strip()
    low = title.lower()
    tags = [t for t in (list(hashtags) if hashtags is not None else []) if f"#{t}".lower() not in low]
    parts = [title, " ".join(f"#{t}" for t in tags)]
    if description:
        parts.append(description.strip())
    return " ".join(p for p in parts if p)


def content_hash(title: str | None, hashtags: Iterable[str] | None, description: str | None,
                 thumbnail: bytes | None) -> str:
    """sha256 over everything an encoder may read of a video: title, hashtags, description, thumbnail."""
    h = hashlib.sha256()
    for part in ((title or ""), "\x1f".join(hashtags or []), (description or "")):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    h.update(thumbnail or b"")
    return h.hexdigest()
