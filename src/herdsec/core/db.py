"""Database engine, sessions and the declarative base (SQLAlchemy 2.0, SQLite or PostgreSQL)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from herdsec.core.clock import as_utc

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every HerdSec table."""

    metadata = MetaData(naming_convention=NAMING)


# A 64-bit key that still autoincrements on SQLite (where only INTEGER PRIMARY KEY is the rowid).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored with time zone where the backend can, always read back as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


# SQLite copies the write-ahead log into the database (a checkpoint) at the commit that makes the log longer than
# 1,000 pages (4 MB): every large import paid for it before answering (about 30 ms for 10k MISP attributes). A
# process with a Checkpointer (the server) checkpoints in a background thread instead, and its connections leave
# SQLite's own checkpoint at commit for logs past this many pages (a fallback: the thread runs every second).
WAL_AUTOCHECKPOINT_PAGES = 16_384  # 64 MB


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, issue BEGIN: needed for correct SAVEPOINT behaviour (per-test rollback).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the pragmas HerdSec relies on (WAL, foreign keys, busy timeout on SQLite)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """An engine and the session factory bound to it (or to one connection, in tests)."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.bind = bind
        # Bound to one connection (tests): each unit of work is a SAVEPOINT inside the caller's transaction.
        self._factory: sessionmaker[Session] = (
            sessionmaker(bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
            if isinstance(bind, Connection)
            else sessionmaker(bind=bind, expire_on_commit=False)
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return str(self.bind.dialect.name)

    def session(self) -> Session:
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()


class Checkpointer:
    """The server's SQLite checkpoints, in a background thread: after writes (a commit since the last look), every
    ``interval`` seconds, a passive checkpoint (it never blocks readers or writers; what it cannot copy yet waits for
    the next one). Nothing to do on PostgreSQL, whose own checkpointer does this."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine, self.interval = engine, interval
        self._written = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed = False

    def start(self) -> None:
        """Start the thread; the engine's connections then leave large logs to it (pooled ones are replaced)."""
        if self._thread is not None:
            return
        self._stopped.clear()
        event.listen(self.engine, "connect", _later_checkpoints)
        event.listen(self.engine, "commit", self._on_commit)
        self.engine.dispose()  # connections made before now would still checkpoint at 4 MB
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopped.set()
        self._thread.join(timeout=10)
        self._thread = None
        event.remove(self.engine, "commit", self._on_commit)
        event.remove(self.engine, "connect", _later_checkpoints)
        self.engine.dispose()  # pooled connections would leave their logs to a thread that is gone

    def _on_commit(self, _conn: Connection) -> None:
        self._written.set()

    def checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint now: (busy, frames in the log, frames copied), as SQLite reports it."""
        with self.engine.connect() as conn:
            busy, log, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(busy), int(log), int(copied)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            if not self._written.is_set():
                continue
            self._written.clear()
            try:
                self.checkpoint()
            except Exception:  # a locked or closed database: the next round tries again
                if not self._failed:
                    self._failed = True
                    logging.getLogger(__name__).exception("SQLite checkpoint failed (retried after later writes)")


def _later_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()
