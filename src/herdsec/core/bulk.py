"""Bulk inserts at driver speed: ``executemany`` on SQLite, ``COPY … FROM STDIN`` on PostgreSQL.

For the hot paths (bundle ingest, feed pulls) that write thousands of rows at a time: no ORM objects, no per-row
statement building. Values must already be in the database's own form (see :func:`db_datetime`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` inside the session's transaction. Booleans may
    be given as 0/1 (SQLite binds exact ints fastest; PostgreSQL's text COPY reads them as booleans)."""
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


PAGE_CACHE_MIN = 16 * 1024 * 1024
PAGE_CACHE_MAX = 256 * 1024 * 1024


@contextmanager
def page_cache_for(session: Session, load_bytes: int | None) -> Iterator[None]:
    """On SQLite, a page cache sized to a bulk load (between 16 and 256 MB) for its duration: the random inserts into
    the indexes then touch memory, not the file. The connection's own setting is restored afterwards."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or not load_bytes:
        yield
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    before = int(cursor.execute("PRAGMA cache_size").fetchone()[0])
    try:
        wanted = min(max(load_bytes, PAGE_CACHE_MIN), PAGE_CACHE_MAX) // 1024
        if before >= 0 or -before < wanted:  # a positive size counts pages: replace it with the KiB size
            cursor.execute(f"PRAGMA cache_size = -{wanted}")
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {before}")
        cursor.close()


BULK_GC_THRESHOLD = 100_000  # allocations between young-generation collections during bulk work (default 700)
_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cycles less often while bulk work allocates millions of short-lived, acyclic containers (each young
    collection of a batch in flight would walk it for nothing). Reference counting still frees them at once; the
    process-wide thresholds are restored when the last concurrent user leaves."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(BULK_GC_THRESHOLD, _gc_saved[1], _gc_saved[2])
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0:
                gc.set_threshold(*_gc_saved)
