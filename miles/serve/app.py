"""``miles serve``: the HTTP API and the dashboard in one FastAPI app, on 127.0.0.1 by default.

    app = create_app(Service.start(Store.open("demo-store")))
    serve("demo-store", host="127.0.0.1", port=8000)

Everything loads at start (a store with no trained head or no vectors is refused with the command that
makes them) into the service's own caches, which the app holds for its lifespan and releases at shutdown. Requests are limited to 8 MiB (and thumbnails to the pixel limit) with a 413 that says so;
only the hosts the server answers for are accepted; CORS is off unless exact origins are named; there are
no docs pages (FastAPI's load from a CDN), only ``/openapi.json``.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from miles.serve.service import Service
from miles.store import Store

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024
LOCAL = ("127.0.0.1", "localhost", "::1")


def create_app(service: Service, host: str = "127.0.0.1", token: str | None = None,
               cors_origins: list[str] | None = None, concurrency: int = 2):
    import anyio
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.staticfiles import StaticFiles
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from miles import __version__
    from miles.serve import api, pages
    from miles.serve.models import Health
    from miles.serve.security import JsonTooLarge, SecurityHeaders, install_error_handlers

    @asynccontextmanager
    async def lifespan(app):  # the service, and the models it loaded, are the app's for its lifespan
        app.state.service = service
        try:
            yield
        finally:
            service.close()

    app = FastAPI(title="Miles", version=__version__, docs_url=None, redoc_url=None, max_body_size=MAX_BODY,
                  lifespan=lifespan,
                  description="How likely a short video is to break out, why, and which similar videos did.")
    app.state.service = service
    app.state.limiter = anyio.CapacityLimiter(concurrency)
    install_error_handlers(app)

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz():
        return {"status": "ok"}

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.add_middleware(SecurityHeaders, token=token, origins=cors_origins)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    hosts = ["*"] if host in ("0.0.0.0", "::") else trusted_hosts(host)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    return JsonTooLarge(app)


def trusted_hosts(host: str) -> list[str]:
    """The Host header names the server answers for: the loopback names and ``host``, an IPv6 address both
    bare and in brackets (a browser sends ``[::1]:8000``, which Starlette reads as ``[::1]``)."""
    return sorted({name for h in (*LOCAL, host) for name in (h, url_host(h))})


def url_host(host: str) -> str:
    """``host`` as a URL holds it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


ENV = "MILES_SERVE_CONFIG"


def _threads(concurrency: int, processes: int) -> None:
    """The predictions running at once share the cores: one torch thread each beats all asking for all."""
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // (concurrency * processes)))


def from_environment():
    """The app of one server process (``--processes`` > 1): its settings come from ``$MILES_SERVE_CONFIG``."""
    import json

    cfg = json.loads(os.environ[ENV])
    _threads(cfg["concurrency"], cfg["processes"])
    service = Service.start(Store.open(cfg["store"], must_exist=True), cfg["head"])
    return create_app(service, cfg["host"], os.environ.get("MILES_API_TOKEN") or None, cfg["cors_origins"],
                      cfg["concurrency"])


def serve(store: str | os.PathLike[str] | None, host: str = "127.0.0.1", port: int = 8000, head: str = "lightgbm",
          cors_origins: list[str] | None = None, concurrency: int = 2, processes: int = 1) -> None:
    """Serve until stopped. Much of a prediction is Python (one core per process at a time), so
    ``processes`` server processes, each loading the models, use more cores than threads can."""
    import json

    import uvicorn

    token = os.environ.get("MILES_API_TOKEN") or None
    if host not in LOCAL:
        log.warning("serving on %s: anyone who can reach this machine can use it%s", host,
                    "" if token else " (set MILES_API_TOKEN to require a token)")
    path = Store.open(store, must_exist=True).uri
    options = dict(host=host, port=port, log_level="warning", server_header=False)
    if processes > 1:
        Service.check(Store(path), head)  # a store that cannot be served is refused before any process starts
        os.environ[ENV] = json.dumps({"store": str(path), "head": head, "host": host, "concurrency": concurrency,
                                      "processes": processes, "cors_origins": cors_origins or []})
        print(f"Miles is serving {path} on http://{url_host(host)}:{port}/ with {processes} processes (Ctrl-C stops it)")
        uvicorn.run("miles.serve.app:from_environment", factory=True, workers=processes, **options)
        return
    _threads(concurrency, 1)
    app = create_app(Service.start(Store(path), head), host, token, cors_origins, concurrency)
    print(f"Miles is serving {path} on http://{url_host(host)}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(app, **options)
