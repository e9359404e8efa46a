"""The hub's ASGI application: every module's JSON router, HTML pages and static files, one error mapping."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from herdsec import __version__
from herdsec.core.db import Database
from herdsec.core.settings import Settings, load_settings
from herdsec.identity import api as identity_api
from herdsec.identity import pages as identity_pages
from herdsec.web import errors
from herdsec.web.middleware import BodyLimit, JsonOnlyApi, Language, SecurityHeaders

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """Build the hub. ``database`` defaults to one made from ``settings.database_url`` (tests pass their own)."""
    settings.check_for_serving()
    app = FastAPI(
        title="HerdSec",
        version=__version__,
        summary="Coordination hub of a national cybersecurity ecosystem",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
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
    app.include_router(identity_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)

    # The last added is the outermost: security headers on every response, then the language (so that the
    # refusals below are translated), then the body limit and JSON-only API bodies.
    app.add_middleware(JsonOnlyApi)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Language, default=settings.default_language)
    app.add_middleware(SecurityHeaders)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` (used by ``herdsec serve --workers N``)."""
    return create_app(load_settings())
