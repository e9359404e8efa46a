"""``herdsec init``, ``serve`` and ``demo``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from herdsec.core.errors import N_, ConfigError


def _migrate(url: str) -> str | None:
    from herdsec.core.db import make_engine
    from herdsec.migrations import current_revision, upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        return current_revision(engine)
    except Exception as exc:
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            raise ConfigError(
                N_("cannot open the database %(url)s: %(reason)s"),
                url=_safe(url),
                reason=str(exc.orig).strip().splitlines()[0],
            ) from None
        raise
    finally:
        engine.dispose()


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def register(app: typer.Typer) -> None:
    from herdsec.cli.context import settings_from

    @app.command()
    def init(ctx: typer.Context) -> None:
        """Create or migrate the database to the newest schema (safe to run again)."""
        settings = settings_from(ctx)
        revision = _migrate(settings.database_url)
        typer.echo(f"database ready: {_safe(settings.database_url)} (schema {revision})")

    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[
            str | None, typer.Option(help="Address to listen on [default: HERDSEC_HOST or 127.0.0.1].")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port [default: HERDSEC_PORT or 8000].")] = None,
        workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
    ) -> None:
        """Migrate the database, then serve the hub (web pages, JSON API)."""
        settings = settings_from(ctx)
        settings.check_for_serving()
        _migrate(settings.database_url)
        _serve(settings, host or settings.host, port or settings.port, workers)

    @app.command()
    def demo(
        ctx: typer.Context,
        port: Annotated[int, typer.Option(help="Port to serve the demo on.")] = 8000,
        host: Annotated[str, typer.Option(help="Address to serve the demo on.")] = "127.0.0.1",
        serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")] = True,
        database: Annotated[
            str, typer.Option(envvar="HERDSEC_DEMO_DATABASE_URL", help="Demo database (recreated from scratch).")
        ] = "sqlite:///./herdsec-demo.db",
    ) -> None:
        """Recreate a demo database full of realistic members, print the logins, and serve it."""
        from herdsec import demo as demo_data
        from herdsec.core.db import Database

        settings = settings_from(ctx, database_url=database, mode="demo")
        _reset(database)
        _migrate(database)
        db = Database.from_url(database)
        logins = demo_data.seed(db)
        db.dispose()
        url = f"http://{host}:{port}/"
        typer.echo(f"HerdSec demo ready at {url}  (database {_safe(database)})")
        typer.echo(f"Logins (password for all: {demo_data.DEMO_PASSWORD}):")
        for login in logins:
            typer.echo(f"  {login.email:34} {login.role:8} {login.organization} — {login.note}")
        if serve:
            _serve(settings, host, port, 1)


def _reset(url: str) -> None:
    """Start the demo from nothing: delete the SQLite file, or drop every table of a PostgreSQL demo database."""
    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        path = make_url(url).database
        if path and path != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        return
    from sqlalchemy import text

    from herdsec.core.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _serve(settings: object, host: str, port: int, workers: int) -> None:
    import uvicorn

    from herdsec.core.settings import Settings

    assert isinstance(settings, Settings)
    if workers == 1:
        from herdsec.web.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)
        return
    # Worker processes rebuild the settings from the environment.
    for name, value in settings.model_dump().items():
        os.environ[f"HERDSEC_{name.upper()}"] = str(value)
    uvicorn.run(
        "herdsec.web.app:app_from_environment", factory=True, host=host, port=port, workers=workers, log_level="info"
    )
