"""Settings, engine pragmas and migrations."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text

from herdsec.core.db import make_engine
from herdsec.core.errors import ConfigError
from herdsec.core.settings import INSECURE_DEFAULT_SECRET, load_settings
from herdsec.migrations import current_revision, head_revision, upgrade


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HERDSEC_DATABASE_URL", "HERDSEC_MODE", "HERDSEC_DEFAULT_LANGUAGE", "HERDSEC_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite:///./herdsec.db" and settings.default_language == "vi"
    assert (settings.host, settings.port, settings.mode) == ("127.0.0.1", 8000, "production")


def test_environment_is_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERDSEC_PORT", "9001")
    monkeypatch.setenv("HERDSEC_DEFAULT_LANGUAGE", "en")
    settings = load_settings()
    assert (settings.port, settings.default_language) == (9001, "en")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HERDSEC_PORT", "http"),
        ("HERDSEC_DEFAULT_LANGUAGE", "fr"),
        ("HERDSEC_DATABASE_URL", "mysql://x"),
        ("HERDSEC_MODE", "yolo"),
    ],
)
def test_invalid_settings_are_a_config_error_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert name.removeprefix("HERDSEC_").lower() in str(info.value)


def test_default_secret_is_refused_outside_dev_and_demo() -> None:
    with pytest.raises(ConfigError, match="HERDSEC_SECRET_KEY"):
        load_settings(mode="production", secret_key=INSECURE_DEFAULT_SECRET).check_for_serving()
    with pytest.raises(ConfigError):
        load_settings(mode="production", secret_key="too-short").check_for_serving()
    load_settings(mode="production", secret_key="x" * 40).check_for_serving()
    load_settings(mode="dev").check_for_serving()
    load_settings(mode="demo").check_for_serving()


def test_sqlite_pragmas(tmp_path: pytest.TempPathFactory) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/p.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    engine.dispose()


def test_schema_is_at_head_and_upgrade_is_idempotent(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {
        "organizations",
        "users",
        "api_keys",
        "web_sessions",
        "sharing_groups",
        "sharing_group_members",
        "audit_log",
        "alembic_version",
    } <= tables


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin() as trans:
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            conn.execute(
                text(
                    "INSERT INTO users (organization_id, email, name, role, is_coordinator, is_lab_evaluator, active, "
                    "created_at) VALUES (424242, 'x@y.example', 'x', 'admin', false, false, true, CURRENT_TIMESTAMP)"
                )
            )
        trans.rollback()


def test_migrations_and_models_agree(engine: Engine) -> None:
    """A model changed without a migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import herdsec.models  # noqa: F401 - registers every table
    from herdsec.core.db import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    diff = [d for d in diff if "test_shared_items" not in str(d)]
    assert diff == []


def test_the_server_checkpoints_sqlite_in_the_background(tmp_path: pytest.TempPathFactory) -> None:
    """With a Checkpointer (the server), a large write no longer makes its own commit copy the log into the database
    (SQLite's default past 4 MB of log): the thread does it after writes. Without one nothing changes."""
    import os
    import time

    from herdsec.core.db import WAL_AUTOCHECKPOINT_PAGES, Checkpointer

    path = f"{tmp_path}/c.db"
    engine = make_engine(f"sqlite:///{path}")
    big = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)"
        " INSERT INTO t SELECT printf('%.800c', 'x') FROM n"
    )
    idle = Checkpointer(engine, interval=3600)  # its thread never gets to run here
    quick = Checkpointer(engine, interval=0.05)
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000  # SQLite's own, by default
            conn.exec_driver_sql("CREATE TABLE t (x TEXT)")
        idle.start()
        with engine.begin() as conn:  # about 8 MB of log
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_AUTOCHECKPOINT_PAGES
            conn.exec_driver_sql(big)
        assert os.path.getsize(path) < 1_000_000  # still only in the log: the commit did not checkpoint
        idle.stop()
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000  # stopped: SQLite's own again
        quick.start()
        quick.stop()
        quick.start()  # a checkpointer starts again after a stop
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES ('after')")
        deadline = time.monotonic() + 5
        while os.path.getsize(path) < 8_000_000:
            assert time.monotonic() < deadline, "the checkpointer never copied the log"
            time.sleep(0.02)
        busy, log, copied = quick.checkpoint()
        assert busy == 0 and copied == log
    finally:
        quick.stop()
        quick.stop()  # stopping twice is harmless
        engine.dispose()
