"""The HTTP API under ``/api/v1``: thin over ``miles.queries``, the same JSON as the command line's ``--json``.

    curl -F title="Wait for it... ramen hack" -F thumbnail=@draft.jpg http://127.0.0.1:8000/api/v1/predict

Inference runs on worker threads, at most ``concurrency`` at once (what waits, queues); thumbnails are
uploaded bytes, never paths.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from miles.errors import MilesError
from miles.queries.predict import MAX_DURATION_S, MAX_FOLLOWERS
from miles.serve.models import Info, LivePrediction, Prediction, Recommendation, SimilarVideo, VideoDetail

router = APIRouter(prefix="/api/v1")
MAX_VARIANTS = 8


async def run(request: Request, fn, *args, **kwargs):
    """``fn`` on a worker thread, within the app's concurrency limit."""
    limiter = request.app.state.limiter
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=limiter)


REQUEST_PIXELS = 48_000_000  # all the images of one request together: a few phone-sized drafts, not nine bombs


async def read_image(upload: UploadFile | None, budget: list[int] | None = None, what: str = "the thumbnail"
                     ) -> bytes | None:
    """An uploaded image's bytes once its header says JPEG, PNG or WebP and the request's images stay within
    ``REQUEST_PIXELS`` together (``budget`` counts them); nothing is decoded here."""
    from miles.errors import TooLarge
    from miles.sources.images import ImageTooLarge, upload_size

    if upload is None or not upload.filename:
        return None
    data = await upload.read()
    if not data:
        return None
    try:
        width, height = upload_size(data, what)
    except ImageTooLarge as err:
        raise TooLarge(str(err)) from None
    budget = [0] if budget is None else budget
    budget[0] += width * height
    if budget[0] > REQUEST_PIXELS:
        raise TooLarge(f"the images of this request hold {budget[0] / 1e6:.0f} million pixels together, over the "
                       f"limit of {REQUEST_PIXELS / 1e6:.0f} million: send smaller thumbnails")
    return data


def draft_fields(title: str, hashtags: str | None, duration: float | None, publish_at: str | None,
                 creator_id: str | None, followers: int | None, k: int) -> dict:
    return {"title": title, "hashtags": hashtags or None, "duration": duration, "publish_at": publish_at or None,
            "creator_id": creator_id or None, "followers": followers, "k": k}


@router.get("/info", response_model=Info)
async def info(request: Request):
    return await run(request, request.app.state.service.info)


@router.post("/predict", response_model=Prediction)
async def predict(request: Request, title: str = Form(..., max_length=5000), hashtags: str | None = Form(None),
                  duration: float | None = Form(None, gt=0, le=MAX_DURATION_S, allow_inf_nan=False),
                  publish_at: str | None = Form(None), creator_id: str | None = Form(None, max_length=200),
                  followers: int | None = Form(None, ge=0, le=MAX_FOLLOWERS),
                  k: int = Form(5, ge=0, le=50), thumbnail: UploadFile | None = File(None)):
    fields = draft_fields(title, hashtags, duration, publish_at, creator_id, followers, k)
    return await run(request, request.app.state.service.predict, await read_image(thumbnail), **fields)


@router.post("/recommend", response_model=Recommendation)
async def recommend(request: Request, title: str = Form(..., max_length=5000), hashtags: str | None = Form(None),
                    duration: float | None = Form(None, gt=0, le=MAX_DURATION_S, allow_inf_nan=False),
                    publish_at: str | None = Form(None), creator_id: str | None = Form(None, max_length=200),
                    followers: int | None = Form(None, ge=0, le=MAX_FOLLOWERS),
                    k: int = Form(5, ge=0, le=50), thumbnail: UploadFile | None = File(None),
                    title_variant: list[str] = Form(default_factory=list),
                    thumbnail_variant: list[UploadFile] = File(default_factory=list)):
    fields = draft_fields(title, hashtags, duration, publish_at, creator_id, followers, k)
    titles = [t for t in title_variant if t.strip()]
    budget = [0]
    draft = await read_image(thumbnail, budget)
    images = [(u.filename or f"thumbnail {i + 1}",
               await read_image(u, budget, f"thumbnail variant {i + 1} ({(u.filename or '')[:60]})"))
              for i, u in enumerate(thumbnail_variant)]
    images = [(name, data) for name, data in images if data]
    if len(titles) + len(images) > MAX_VARIANTS:
        raise MilesError(f"at most {MAX_VARIANTS} variants at once, got {len(titles) + len(images)}")
    return await run(request, request.app.state.service.recommend, draft,
                     title_variants=titles, thumbnail_variants=images, **fields)


@router.get("/similar", response_model=list[SimilarVideo])
async def similar(request: Request, video_id: str | None = Query(None, max_length=200),
                  title: str | None = Query(None, max_length=5000), k: int = Query(10, ge=1, le=100),
                  viral_only: bool = False, modality: str = Query("both", pattern="^(text|image|both)$")):
    if (video_id is None) == (title is None):
        raise MilesError("give exactly one of video_id or title")
    return await run(request, request.app.state.service.similar, video_id=video_id, title=title, k=k,
                     viral_only=viral_only, modality=modality)


@router.get("/videos/{video_id}", response_model=VideoDetail)
async def video(request: Request, video_id: str):
    return await run(request, request.app.state.service.video, video_id)


@router.get("/videos/{video_id}/prediction", response_model=LivePrediction)
async def video_prediction(request: Request, video_id: str, at: str | None = Query(None, max_length=64),
                           k: int = Query(5, ge=0, le=50)):
    """A stored video scored live, at the latest moment its age at ``at`` (default now) allows."""
    return await run(request, request.app.state.service.live, video_id, at, k)


@router.get("/videos/{video_id}/thumbnail")
async def thumbnail(request: Request, video_id: str):
    data = await run(request, request.app.state.service.thumbnail, video_id)
    kind = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/webp" if data[8:12] == b"WEBP" else \
        "image/gif" if data[:4] == b"GIF8" else "image/jpeg"
    return Response(data, media_type=kind, headers={"Cache-Control": "max-age=3600"})
