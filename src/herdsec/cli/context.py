"""What every command needs from the root command: the settings (environment, then ``--database-url``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy.orm import Session

from herdsec.core.settings import Settings, load_settings


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings for a command: the environment, then the root ``--database-url``, then the command's overrides."""
    url = (ctx.find_root().obj or {}).get("database_url")
    if url:
        overrides.setdefault("database_url", url)
    return load_settings(**overrides)


@contextmanager
def database_session(ctx: typer.Context) -> Iterator[Session]:
    """One unit of work on the configured database: committed at the end, rolled back on any error."""
    from herdsec.core.db import Database

    db = Database.from_url(settings_from(ctx).database_url)
    try:
        with db.transaction() as session:
            yield session
    finally:
        db.dispose()
