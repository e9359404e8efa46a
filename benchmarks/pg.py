"""A throw-away PostgreSQL database for a benchmark run (when HERDSEC_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url

from herdsec.core.db import make_engine


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
