"""Pure ASGI middleware: body size limit, JSON-only API bodies, language, security headers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herdsec.core.errors import N_
from herdsec.core.i18n import LANGUAGES, gettext, negotiate, using_language
from herdsec.web.security import LANG_COOKIE

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
]
JSON_TYPES = ("application/json", "application/taxii+json", "application/stix+json")
# A protocol with its own error bodies (TAXII): (status, title, detail) -> (media type, body).
ErrorBytes = Callable[[int, str, str], tuple[str, bytes]]


async def _send_problem(send: Send, status: int, title: str, detail: str, own: ErrorBytes | None = None) -> None:
    if own is not None:
        media_type, body = own(status, gettext(title), detail)
    else:
        problem = {"type": "about:blank", "title": gettext(title), "status": status, "detail": detail}
        media_type, body = "application/problem+json", json.dumps(problem, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over the limit with 413: by Content-Length up front, by counting while streaming otherwise."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        uploads: tuple[str, ...] = (),
        upload_bytes: int = 0,
        bodies: Mapping[str, ErrorBytes] | None = None,
    ) -> None:
        self.app, self.default, self.uploads, self.upload_bytes = app, max_bytes, uploads, upload_bytes
        self.bodies = dict(bodies or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if self.uploads and scope["path"].startswith(self.uploads) else self.default
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        own = next((body for prefix, body in self.bodies.items() if scope["path"].startswith(prefix)), None)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        detail = gettext(N_("the request body is larger than %(max)d bytes")) % {"max": limit}
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_problem(send, 413, N_("Payload too large"), detail, own)
            return
        seen = 0
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer 413 now and tell the application the client went away (frameworks turn exceptions
                    # raised here into 400s); whatever it sends afterwards is dropped.
                    refused = True
                    if not started:
                        await _send_problem(send, 413, N_("Payload too large"), detail, own)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise


class JsonOnlyApi:
    """Bodies sent to ``/api/`` must be JSON: anything else is 415 before it reaches a handler."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(self.prefix)
            and scope["method"]
            in {
                "POST",
                "PUT",
                "PATCH",
            }
        ):
            headers = dict(scope["headers"])
            ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
            if has_body and ctype not in JSON_TYPES:
                detail = gettext(N_("send the body as application/json (got %(type)s)")) % {
                    "type": ctype or "no Content-Type"
                }
                await _send_problem(send, 415, N_("Unsupported media type"), detail)
                return
        await self.app(scope, receive, send)


def choose_language(headers: Mapping[bytes, bytes], default: str) -> str:
    """The ``herdsec_lang`` cookie, else ``Accept-Language``, else the default."""
    if b"cookie" in headers:
        cookie: SimpleCookie = SimpleCookie()
        with contextlib.suppress(Exception):  # a malformed cookie header just means no choice was made
            cookie.load(headers[b"cookie"].decode("latin-1"))
        morsel = cookie.get(LANG_COOKIE)
        if morsel is not None and morsel.value in LANGUAGES:
            return morsel.value
    accept = headers.get(b"accept-language")
    return negotiate(accept.decode("latin-1") if accept else None, default)


class Language:
    """Choose the request's language: the ``herdsec_lang`` cookie, else ``Accept-Language``, else the default.
    (A logged-in user's own setting overrides this once the user is known.)"""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app, self.default = app, default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language = choose_language(dict(scope["headers"]), self.default)
        with using_language(language):
            await self.app(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)
