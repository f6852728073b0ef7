"""Safe by default: security headers on every response, an optional bearer token, errors as JSON.

- Content-Security-Policy with no inline script or style: every script and stylesheet is a file under
  ``/static`` (vendored, see ``static/VENDORED.json``); images from the app itself, or from the page's own
  blob: URLs (the thumbnail preview).
- ``MILES_API_TOKEN``: when set, every request but ``/healthz`` and ``/static`` needs
  ``Authorization: Bearer <token>`` (or the cookie a browser gets by opening ``/?token=<token>`` once).
- A POST whose ``Origin`` (or, without one, ``Referer``) is another site is refused (403) unless
  ``--cors-origin`` names it: a page the user happens to visit cannot drive the local server.
- Errors are ``{"error", "detail"}`` with a 4xx status (HTML fragments for the dashboard's own requests);
  a bug is a 500 with no traceback in the body.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

log = logging.getLogger(__name__)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin"}
COOKIE = "miles_token"
OVER_LIMIT = "the request is over the 8 MiB limit: send smaller images"


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app, token: str | None = None, origins: list[str] | None = None):
        super().__init__(app)
        self.token, self.origins = token, set(origins or [])

    def cross_site(self, request: Request) -> str | None:
        """The other site a state-changing request comes from, or None (same site, or no browser)."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        origin = request.headers.get("origin")
        if origin is None:
            referer = urlsplit(request.headers.get("referer", ""))
            origin = f"{referer.scheme}://{referer.netloc}" if referer.scheme and referer.netloc else None
        if origin is None:
            return None  # curl, scripts: no browser to borrow
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        return None if origin == own or origin in self.origins else origin

    async def dispatch(self, request: Request, call_next) -> Response:
        other = self.cross_site(request)
        if other is not None:
            return _headers(error_response(request, 403, "forbidden", f"a request from another site ({other[:100]}) "
                                           "was refused; whoever runs this server can allow that site"))
        if self.token and not _open_path(request.url.path):
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            given = given or request.cookies.get(COOKIE, "")
            query = request.query_params.get("token", "")
            if query and hmac.compare_digest(query, self.token) and request.url.path == "/":
                response = RedirectResponse("/", status_code=303)
                response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
                return _headers(response)
            if not given or not hmac.compare_digest(given, self.token):
                return _headers(error_response(request, 401, "unauthorised",
                                               "this server needs its token: Authorization: Bearer <token>"))
        return _headers(await call_next(request))


class JsonTooLarge:
    """The outermost layer: the body limit's own 413 (plain text, sent before any route runs) is given the
    same ``{"error", "detail"}`` body and security headers as every other error."""

    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):  # ``state``, ``openapi`` ... of the wrapped app
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        replaced = False

        async def wrapped(message):
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if kind.startswith(b"text/plain"):
                    replaced = True
                    detail = OVER_LIMIT
                    if dict(scope.get("headers", [])).get(b"hx-request") == b"true":  # the dashboard's form
                        body, kind = error_fragment("too large", detail).encode(), b"text/html; charset=utf-8"
                    else:
                        body, kind = json.dumps({"error": "too large", "detail": detail}).encode(), b"application/json"
                    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
                    headers += [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                    await send({"type": "http.response.start", "status": 413, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
            if not replaced:
                await send(message)

        await self.app(scope, receive, wrapped)


def _open_path(path: str) -> bool:
    return path == "/healthz" or path.startswith("/static/") or path == "/favicon.ico"


def _headers(response: Response) -> Response:
    for k, v in HEADERS.items():
        response.headers.setdefault(k, v)
    return response


def wants_html(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" or (
        not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", ""))


def error_fragment(error: str, detail: str) -> str:
    """An error as the dashboard shows it in place of a result (focusable, announced)."""
    return (f'<div class="error" role="alert" tabindex="-1"><strong>{html.escape(error[:1].upper() + error[1:])}</strong>: '
            f"{html.escape(detail)}</div>")


def error_response(request: Request, status: int, error: str, detail: str) -> Response:
    """JSON for the API; a fragment for the dashboard's own requests; a whole page, with the navigation,
    when a browser opened the address itself."""
    if request.headers.get("hx-request") == "true":
        return HTMLResponse(error_fragment(error, detail), status_code=status)
    if wants_html(request) and hasattr(request.app.state, "service"):
        from miles.serve.pages import page

        response = page(request, "error.html", error=error, detail=detail)
        response.status_code = status
        return response
    if wants_html(request):
        return HTMLResponse(error_fragment(error, detail), status_code=status)
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def install_error_handlers(app) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    from miles.errors import MilesError, NotFound, TooLarge

    @app.exception_handler(NotFound)
    async def missing(request: Request, exc: NotFound):
        return error_response(request, 404, "not found", str(exc))

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, exc: TooLarge):
        return error_response(request, 413, "too large", str(exc))

    @app.exception_handler(MilesError)
    async def bad_input(request: Request, exc: MilesError):
        return error_response(request, 422, "invalid input", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        parts = [f"{'.'.join(str(x) for x in e.get('loc', [])[1:])}: {e.get('msg')}" for e in exc.errors()]
        return error_response(request, 422, "invalid input", "; ".join(parts) or "the request does not validate")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        names = {404: "not found", 405: "method not allowed", 413: "too large"}
        detail = OVER_LIMIT if exc.status_code == 413 else \
            f"there is no page at {request.url.path[:100]}" if exc.status_code == 404 else \
            f"the method {request.method[:10]} is not allowed here" if exc.status_code == 405 else str(exc.detail)
        return error_response(request, exc.status_code, names.get(exc.status_code, "error"), detail)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception):
        log.exception("internal error on %s", request.url.path)
        return error_response(request, 500, "internal error", "something went wrong in Miles; see the server log")
