"""What the benchmarks share: a throw-away PostgreSQL database (when HERDSEC_TEST_DATABASE_URL is set), the
backends to compare, a migrated empty database, and a measured run in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from herdsec.core.db import make_engine
from herdsec.migrations import upgrade


def scratch_database() -> tuple[str, Callable[[], None]] | None:
    """(URL of a new empty database, a function that drops it), or None without a PostgreSQL server."""
    base = os.environ.get("HERDSEC_TEST_DATABASE_URL")
    if not base:
        return None
    name = f"herdsec_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


Backend = tuple[str, str, Callable[[], None] | None]
"""(name, database URL, a function that drops the database or None)."""


def backends(sqlite_file: Path, wanted: tuple[str, ...] = ("sqlite", "postgresql")) -> list[Backend]:
    """SQLite in ``sqlite_file``, and a scratch PostgreSQL database when a server is configured."""
    found: list[Backend] = []
    if "sqlite" in wanted:
        found.append(("sqlite", f"sqlite:///{sqlite_file}", None))
    pg = scratch_database() if "postgresql" in wanted else None
    if pg:
        found.append(("postgresql", pg[0], pg[1]))
    return found


def migrate(url: str) -> None:
    """Create the hub's tables in the (empty) database at ``url``."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def run_worker(module: str, *args: str) -> dict[str, float]:
    """Run ``python -m module args...`` (one measured run in its own process) and read the JSON line it prints last."""
    done = subprocess.run(  # noqa: S603 - our own benchmark modules
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
