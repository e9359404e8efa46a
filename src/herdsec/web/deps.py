"""Request-scoped helpers every module's adapters use: the database, the acting principal, the client address."""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import IO

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from herdsec.core.db import Database
from herdsec.core.errors import N_, AuthenticationRequired
from herdsec.core.i18n import set_language
from herdsec.identity import Principal, authenticate_api_key, session_principal
from herdsec.web.security import SESSION_COOKIE, check_csrf


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


SPOOL_IN_MEMORY = 8 * 1024 * 1024


@asynccontextmanager
async def spooled_body(request: Request) -> AsyncIterator[IO[bytes]]:
    """The request body in a temporary file, read from the start and closed at the end. Large bodies (or bodies of
    unknown length) go to a named file on disk, so that parsing can run in a second, memory-capped process."""
    length = int(request.headers.get("content-length") or 0)
    spool: IO[bytes] = (
        tempfile.NamedTemporaryFile(suffix=".json")  # noqa: SIM115 - closed below
        if length > SPOOL_IN_MEMORY or not length
        else tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    )
    try:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        yield spool
    finally:
        spool.close()


@contextmanager
def transaction(request: Request) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on any error (nothing half-written)."""
    with database(request).transaction() as session:
        yield session


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _api_key_from_header(header: str) -> str:
    scheme, _sep, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() == "basic":  # TAXII clients send the key as the Basic password
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationRequired(N_("malformed Basic credentials")) from None
        return decoded.partition(":")[2]
    raise AuthenticationRequired(N_("use 'Authorization: Bearer <key>'"))


def _adopt(request: Request, principal: Principal) -> Principal:
    request.state.principal = principal
    if principal.language:
        set_language(principal.language)
    return principal


def _with_session(request: Request, token: str) -> Principal:
    with transaction(request) as session:
        return session_principal(session, token, client_ip(request))


def _with_key(request: Request, key: str) -> Principal:
    with transaction(request) as session:
        return authenticate_api_key(session, key, client_ip(request))


async def _from_cookie(request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    # Database work runs in the thread pool: the event loop stays free for streams and other requests.
    principal = await run_in_threadpool(_with_session, request, token)
    await check_csrf(request)
    return principal


async def api_principal(request: Request) -> Principal:
    """The caller of a JSON endpoint: an API key (Bearer or Basic password), else a logged-in browser."""
    header = request.headers.get("authorization")
    if header:
        key = _api_key_from_header(header)
        return _adopt(request, await run_in_threadpool(_with_key, request, key))
    principal = await _from_cookie(request)
    if principal is None:
        raise AuthenticationRequired(N_("this needs an API key (Authorization: Bearer <key>) or a login"))
    return _adopt(request, principal)


async def page_principal(request: Request) -> Principal:
    """The logged-in user of a page (anonymous visitors are sent to the login page)."""
    principal = await _from_cookie(request)
    if principal is None:
        raise AuthenticationRequired(N_("please log in"))
    return _adopt(request, principal)


async def optional_page_principal(request: Request) -> Principal | None:
    try:
        principal = await _from_cookie(request)
    except AuthenticationRequired:
        return None
    return None if principal is None else _adopt(request, principal)
