"""Alembic environment: runs on the connection HerdSec hands over (or on ``sqlalchemy.url``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import herdsec.models  # noqa: F401 - registers every table on the metadata
from herdsec.core.db import Base, make_engine


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite:///./herdsec.db")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
