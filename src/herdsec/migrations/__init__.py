"""Alembic migrations of the whole hub (one linear history) and the functions that apply them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

HERE = Path(__file__).parent


def alembic_config(bind: Engine | Connection | None = None, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if bind is not None:
        config.attributes["connection"] = bind
    return config


def upgrade(bind: Engine | Connection) -> None:
    """Bring the schema to the newest revision; running it again does nothing."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    else:
        command.upgrade(alembic_config(bind), "head")


def current_revision(bind: Engine | Connection) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return read(connection)
    return read(bind)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
