"""Bulk inserts at driver speed: ``executemany`` on SQLite, ``COPY … FROM STDIN`` on PostgreSQL.

For the hot paths (bundle ingest, feed pulls) that write thousands of rows at a time: no ORM objects, no per-row
statement building. Values must already be in the database's own form (see :func:`db_datetime`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session


def db_datetime(dialect: str, value: datetime | None) -> Any:
    """How SQLAlchemy's ``DateTime(timezone=True)`` stores a value on this backend (SQLite: naive UTC text)."""
    if value is None or dialect != "sqlite":
        return value
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def insert_rows(session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` inside the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608 - fixed names
    finally:
        cursor.close()
