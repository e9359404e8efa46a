"""The one mapping from HerdSec errors to HTTP: ``application/problem+json`` for the API, a page for browsers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from herdsec.core import errors as e
from herdsec.core.errors import N_
from herdsec.core.i18n import gettext, using_language

STATUS: dict[type[e.HerdsecError], int] = {
    e.InvalidInput: 422,
    e.NotFound: 404,
    e.Conflict: 409,
    e.AuthenticationRequired: 401,
    e.PermissionDenied: 403,
    e.PayloadTooLarge: 413,
    e.UnsupportedMediaType: 415,
    e.NotAcceptable: 406,
    e.ConfigError: 500,
}
TITLES = {
    400: N_("Bad request"),
    401: N_("Authentication required"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    406: N_("Not acceptable"),
    409: N_("Conflict"),
    413: N_("Payload too large"),
    415: N_("Unsupported media type"),
    422: N_("Invalid input"),
    500: N_("Internal error"),
}


def status_of(exc: e.HerdsecError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def problem(status: int, detail: str, *, where: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": gettext(TITLES.get(status, N_("Error"))), "status": status}
    body["detail"] = detail
    if where:
        body["where"] = where
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="herdsec"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


# A protocol with its own error bodies (TAXII) renders them itself: path prefix -> (status, title, detail, where).
ErrorBody = Callable[[int, str, str, str | None], Response]


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/taxii2", "/healthz")):
        return False
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI, bodies: Mapping[str, ErrorBody] | None = None) -> None:
    """Register the handlers; HTML pages get ``herdsec.web.pages.error_page``, the rest problem JSON (or, under a
    prefix of ``bodies``, that protocol's own error body)."""
    from herdsec.web.render import error_page

    def own_body(request: Request) -> ErrorBody | None:
        return next((body for prefix, body in (bodies or {}).items() if request.url.path.startswith(prefix)), None)

    def render(request: Request, status: int, detail: str, where: str | None = None, **extra: Any) -> Response:
        body = own_body(request)
        if body is not None:
            return body(status, gettext(TITLES.get(status, N_("Error"))), detail, where)
        return problem(status, detail, where=where, **extra)

    async def herdsec_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, e.HerdsecError)
        status = status_of(exc)
        text = exc.render(gettext)
        if wants_html(request):
            if status == 401:
                return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
            return error_page(request, status, text)
        return render(request, status, text, exc.where)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"where": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"where": "body", "message": "invalid"}
        detail = f"{first['where']}: {first['message']}"
        if wants_html(request):
            return error_page(request, 422, detail)
        return render(request, 422, detail, first["where"], errors=errors)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = gettext(TITLES.get(exc.status_code, N_("Error"))) if exc.detail is None else str(exc.detail)
        if wants_html(request):
            return error_page(request, exc.status_code, detail)
        return render(request, exc.status_code, detail)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        """A bug: the reader gets the hub's error page or a problem body (never a blank page); the traceback goes to
        the server's log, as Starlette re-raises after this handler."""
        from herdsec.web.middleware import choose_language  # the language middleware is not around this handler

        default = request.app.state.settings.default_language
        with using_language(choose_language(dict(request.scope["headers"]), default)):
            detail = gettext(N_("Something went wrong on the hub; it has been logged. Please try again later."))
            if wants_html(request):
                return error_page(request, 500, detail)
            return render(request, 500, detail)

    async def model_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError)
        return await validation_error(request, RequestValidationError(exc.errors()))

    app.add_exception_handler(e.HerdsecError, herdsec_error)
    app.add_exception_handler(ValidationError, model_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
