"""The dashboard: server-rendered pages (Jinja2), htmx for the draft's in-place result, SVG drawn here.

- ``/`` the draft: a form (title, hashtags, duration, publish time, creator, thumbnail, variants) whose
  result — gauge, factors, similar viral videos, suggestions, ranked variants — replaces a panel in place.
- ``/models`` the latest evaluation with intervals: which model ranks best on each split and whether clearly,
  where the served one stands, what titles and thumbnails add (``miles.eval.verdicts``), ROC and calibration.
- ``/store`` counts, the velocity distribution, recent writes, rejects with reasons.
- ``/videos/{id}`` one video: views over time, its label, its earlier neighbours.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from miles.queries.card import group_words
from miles.serve import charts
from miles.serve.api import MAX_VARIANTS, draft_fields, read_image, run
from miles.serve.feed import feed_cards

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def page(request: Request, name: str, **context) -> HTMLResponse:
    service = request.app.state.service
    return templates.TemplateResponse(request, name, {"head": service.head, "store_name": service.store.location.name,
                                                      **context})


@router.get("/", response_class=HTMLResponse)
async def draft_page(request: Request):
    creators = await run(request, request.app.state.service.creators)
    return page(request, "draft.html", creators=creators, max_variants=MAX_VARIANTS)


@router.post("/draft", response_class=HTMLResponse)
async def draft_result(request: Request, title: str = Form(..., max_length=5000), hashtags: str | None = Form(None),
                       duration: str | None = Form(None), publish_at: str | None = Form(None),
                       creator_id: str | None = Form(None, max_length=200), followers: str | None = Form(None),
                       thumbnail: UploadFile | None = File(None), title_variants: str | None = Form(None),
                       thumbnail_variant: list[UploadFile] = File(default_factory=list)):
    from miles.errors import MilesError

    def number(text, kind, what):
        if text is None or not text.strip():
            return None
        try:
            return kind(text)
        except ValueError:
            raise MilesError(f"{what} must be a number, got {text!r}") from None

    fields = draft_fields(title, hashtags, number(duration, float, "duration"), publish_at, creator_id,
                          number(followers, int, "followers"), 5)
    titles = [t.strip() for t in (title_variants or "").splitlines() if t.strip()]
    budget = [0]
    draft = await read_image(thumbnail, budget)
    images = [(u.filename or f"thumbnail {i + 1}",
               await read_image(u, budget, f"thumbnail variant {i + 1} ({(u.filename or '')[:60]})"))
              for i, u in enumerate(thumbnail_variant)]
    images = [(name, data) for name, data in images if data]
    if len(titles) + len(images) > MAX_VARIANTS:
        raise MilesError(f"at most {MAX_VARIANTS} variants at once, got {len(titles) + len(images)}")
    out = await run(request, request.app.state.service.recommend, draft,
                    title_variants=titles, thumbnail_variants=images, **fields)
    groups = [(group_words(f["name"]), f["effect"]) for f in out["factors"] if f["kind"] == "group"]
    return page(request, "_result.html", out=out, gauge=charts.gauge(out["draft"]["viral_probability"],
                                                                    out["draft"]["viral_interval"]),
                bars=charts.signed_bars(groups), features=[f for f in out["factors"] if f["kind"] == "feature"],
                feed=feed_cards(out, fields["title"], draft, images))


@router.get("/thumbnails/{video_id}")
async def card_thumbnail(request: Request, video_id: str):
    """A stored video's thumbnail for a card, or a placeholder when it has none."""
    from fastapi.responses import FileResponse, Response

    try:
        data = await run(request, request.app.state.service.thumbnail, video_id)
    except LookupError:
        return FileResponse(Path(__file__).parent / "static" / "no-thumbnail.svg", media_type="image/svg+xml")
    return Response(data, media_type="image/jpeg" if data[:3] == b"\xff\xd8\xff" else "application/octet-stream",
                    headers={"Cache-Control": "max-age=3600"})


@router.get("/watch", response_class=HTMLResponse)
async def watch_page(request: Request):
    return page(request, "watch.html", **await _board(request))


@router.get("/watch/board", response_class=HTMLResponse)
async def watch_board(request: Request):
    """The board alone, for the page's polling."""
    return page(request, "_board.html", **await _board(request))


async def _board(request: Request) -> dict:
    board = await run(request, request.app.state.service.watchlist)
    for v in board["videos"]:
        v["chart"] = charts.trajectory(v["history"])
        v["growth"] = charts.growth(v["curve"], v["neighbours_at"])
    return {"board": board}


@router.get("/models", response_class=HTMLResponse)
async def models_page(request: Request):
    from miles.serve.views import models_context

    return page(request, "models.html", **await run(request, models_context, request.app.state.service))


@router.get("/store", response_class=HTMLResponse)
async def store_page(request: Request):
    summary = await run(request, request.app.state.service.store_summary)
    hist = charts.histogram(summary["velocity_histogram"]["counts"], summary["velocity_histogram"]["edges"],
                            "log10 views/h")
    return page(request, "store.html", s=summary, hist=hist)


@router.get("/videos/{video_id}", response_class=HTMLResponse)
async def video_page(request: Request, video_id: str):
    from miles.serve.views import video_context

    return page(request, "video.html", **await run(request, video_context, request.app.state.service, video_id))
