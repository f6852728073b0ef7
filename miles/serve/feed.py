"""The variants as a creator would meet them: a phone-sized Shorts feed, the draft first, each card with its
thumbnail, title, chance of breaking out, change against the draft and the thumbnail's measured look.

    cards = feed_cards(out, title, draft_bytes, [("b.jpg", b_bytes)])
    # [{"draft": True, "title": ..., "src": "data:image/jpeg;base64,...", "p": "31%", "change": None, ...}, ...]

Uploaded thumbnails are never stored: each is shrunk to a feed-sized JPEG and placed in the page as a
``data:`` URL (the content-security policy allows ``data:`` images). A title variant shows the draft's
thumbnail, as it would be posted.
"""

from __future__ import annotations

import base64
import io

PLACEHOLDER = "/static/no-thumbnail.svg"
SIZE = (180, 320)  # a 9:16 card at twice the feed's width, for sharp phones


def preview(data: bytes | None) -> str:
    """A feed-sized JPEG of ``data`` as a ``data:`` URL, or the placeholder when there is none to show."""
    if not data:
        return PLACEHOLDER
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
        img.draft("RGB", SIZE)
        img = img.convert("RGB")
        img.thumbnail(SIZE)
    except Exception:  # the thumbnail was read once already; a preview is never worth a failed page
        return PLACEHOLDER
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def looks(stats: dict | None) -> str:
    """The thumbnail's measured look in words: "brightness 0.40 · contrast 0.14 · no face"."""
    if not stats or "brightness" not in stats:
        return ""
    faces = stats.get("faces", 0)
    face = "no face" if not faces else f"{faces} face{'s' * (faces != 1)}"
    return f"brightness {stats['brightness']:.2f} · contrast {stats['contrast']:.2f} · {face}"


def feed_cards(out: dict, title: str, draft: bytes | None, images: list[tuple[str, bytes]]) -> list[dict]:
    if not out["variants"]:
        return []
    mine = preview(draft)
    cards = [{"draft": True, "name": "your draft", "title": title, "src": mine,
              "p": f"{out['draft']['viral_probability']:.0%}", "change": None, "looks": looks(out.get("measured"))}]
    for v in out["variants"]:
        thumb = v["kind"] == "thumbnail"
        cards.append({"draft": False, "name": f"{v['kind']} variant: {v['variant']}",
                      "title": title if thumb else v["variant"],
                      "src": preview(images[v["given"] - 1][1]) if thumb else mine,
                      "p": f"{v['viral_probability']:.0%}", "change": v["change"],
                      "looks": looks(v.get("thumbnail")) if thumb else looks(out.get("measured"))})
    return cards
