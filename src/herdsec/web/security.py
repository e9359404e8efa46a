"""Cookies and CSRF for the web pages (API callers use Bearer keys and need neither)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from herdsec.core.errors import N_, PermissionDenied

SESSION_COOKIE = "herdsec_session"
CSRF_COOKIE = "herdsec_csrf"
LANG_COOKIE = "herdsec_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _seed(request: Request) -> str:
    """The secret the CSRF token is derived from: the session cookie, else a random anonymous cookie."""
    seed = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)
    if seed:
        return seed
    new = getattr(request.state, "new_csrf_seed", None)
    if new is None:
        new = secrets.token_urlsafe(24)
        request.state.new_csrf_seed = new
    return str(new)


def csrf_token(request: Request) -> str:
    secret = request.app.state.settings.secret_key.encode()
    return hmac.new(secret, _seed(request).encode(), hashlib.sha256).hexdigest()[:40]


async def check_csrf(request: Request) -> None:
    """Unsafe requests made with cookies must carry the token (form field ``csrf_token`` or ``X-CSRF-Token``)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    has_seed = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)
    if not sent or not has_seed or not hmac.compare_digest(sent, csrf_token(request)):
        raise PermissionDenied(N_("the form has expired or did not come from this site; reload the page and retry"))
