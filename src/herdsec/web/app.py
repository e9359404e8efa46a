"""The hub's ASGI application: every module's JSON router, HTML pages and static files, one error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import swagger_ui_bundle  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from herdsec import __version__
from herdsec.core import workers
from herdsec.core.db import Checkpointer, Database
from herdsec.core.settings import Settings, load_settings
from herdsec.identity import api as identity_api
from herdsec.identity import pages as identity_pages
from herdsec.intel import api as intel_api
from herdsec.intel import exports_api as intel_exports_api
from herdsec.intel import federation_pages, misp_api, scanset_api, stream_api, taxii_api
from herdsec.intel import pages as intel_pages
from herdsec.intel.prepare import WORKER_MODULES
from herdsec.intel.webhooks import pages as webhook_pages
from herdsec.skills import api as skills_api
from herdsec.skills import pages as skills_pages
from herdsec.web import errors
from herdsec.web.middleware import BodyLimit, JsonOnlyApi, Language, SecurityHeaders

STATIC = Path(__file__).resolve().parent / "static"
# Bulk uploads (HERDSEC_MAX_UPLOAD_BYTES rather than HERDSEC_MAX_BODY_BYTES): bundles, TAXII, MISP events, files.
UPLOAD_PATHS = (
    "/api/v1/intel/bundles",
    "/intel/submit",
    "/taxii2/",
    "/api/v1/intel/misp/events",
    "/skills/postings",
    "/skills/programmes",
)
API_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HerdSec API</title>
<link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>"""


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """Build the hub. ``database`` defaults to one made from ``settings.database_url`` (tests pass their own)."""
    settings.check_for_serving()
    app = FastAPI(
        title="HerdSec",
        version=__version__,
        summary="Coordination hub of a national cybersecurity ecosystem",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served below from the swagger-ui-bundle package: no CDN, strict CSP
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database or Database.from_url(settings.database_url)

    @app.get("/healthz", tags=["health"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        from sqlalchemy import text

        with app.state.db.transaction() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    app.include_router(identity_api.router, prefix="/api/v1")
    app.include_router(intel_api.router, prefix="/api/v1")
    app.include_router(misp_api.router, prefix="/api/v1")
    app.include_router(intel_exports_api.router, prefix="/api/v1")
    app.include_router(scanset_api.router, prefix="/api/v1")
    app.include_router(identity_pages.router)
    app.include_router(intel_pages.router)
    app.include_router(federation_pages.router)
    app.include_router(skills_api.router, prefix="/api/v1")
    app.include_router(skills_pages.router)
    app.include_router(taxii_api.router)
    app.include_router(stream_api.router, prefix="/api/v1")
    app.include_router(webhook_pages.router)
    app.include_router(stream_api.pages)
    stream_api.install(app)
    _background(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/api/v1/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")

    @app.get("/api/v1/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(API_DOCS)

    errors.install(app, bodies={taxii_api.PREFIX: taxii_api.error_response})

    # The last added is the outermost: security headers on every response, then the language (so that the
    # refusals below are translated), then the body limit and JSON-only API bodies.
    app.add_middleware(JsonOnlyApi)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        uploads=UPLOAD_PATHS,
        upload_bytes=settings.max_upload_bytes,
        bodies={taxii_api.PREFIX: taxii_api.error_bytes},
    )
    app.add_middleware(Language, default=settings.default_language)
    app.add_middleware(SecurityHeaders)
    return app


def _background(app: FastAPI) -> None:
    """What the hub runs beside requests from start to stop: the fork server of its second processes (see
    ``core.workers``: a MISP event or a bundle posted later is then converted in a child that starts in
    milliseconds) and, on SQLite, the WAL checkpoints (``core.db.Checkpointer``: no request pays for one). A
    database bound to one connection (the tests' per-test transaction) gets neither: each test chooses its path."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        bind = app.state.db.bind
        checkpointer = Checkpointer(bind) if isinstance(bind, Engine) and bind.dialect.name == "sqlite" else None
        if isinstance(bind, Engine):
            workers.warm(WORKER_MODULES)  # starts the server process and returns; it imports on its own
        if checkpointer is not None:
            checkpointer.start()
        try:
            async with previous(app_) as state:
                yield state
        finally:
            if checkpointer is not None:
                await run_in_threadpool(checkpointer.stop)  # joins the thread: not on the event loop

    app.router.lifespan_context = lifespan


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` (used by ``herdsec serve --workers N``)."""
    return create_app(load_settings())
