"""Test fixtures: a real database per backend (SQLite always, PostgreSQL when HERDSEC_TEST_DATABASE_URL is set),
every test inside a transaction that is rolled back, and an app bound to that same transaction."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

from herdsec.core.db import Database, make_engine
from herdsec.core.settings import Settings, load_settings
from herdsec.migrations import upgrade
from herdsec.web.app import create_app
from tests.shared_table import test_metadata

PG_URL = os.environ.get("HERDSEC_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _fresh_postgres() -> tuple[str, Engine]:
    """A throw-away database on the configured server, so tests never touch anything else."""
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"herdsec_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))


def _drop_postgres(name: str) -> None:
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "herdsec-test.db"
        eng = make_engine(f"sqlite:///{path}")
        upgrade(eng)
        test_metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    name, eng = _fresh_postgres()
    try:
        upgrade(eng)
        test_metadata.create_all(eng)
        yield eng
    finally:
        eng.dispose()
        _drop_postgres(name)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection in one outer transaction, rolled back after the test (no rows are deleted by hand)."""
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def db(connection: Connection) -> Database:
    return Database(connection)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    s = db.session()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def settings() -> Settings:
    return load_settings(mode="dev", default_language="en", max_body_bytes=64 * 1024)


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=db), base_url="http://testserver") as c:
        yield c


@pytest.fixture(autouse=True)
def _cold_fork_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new command-line process would: the fork server counts as not started (an earlier
    test may have started it), so that ``parallel=None`` imports take the same path whatever ran before."""
    from herdsec.core import workers

    monkeypatch.setattr(workers, "_warm", False)
