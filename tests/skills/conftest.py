"""The skills catalogue is reference data: loaded (committed) once per test database, like a migration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from herdsec.core.db import Database
from herdsec.skills import service


@pytest.fixture(scope="session")
def loaded(engine: Engine) -> Iterator[Engine]:
    with Database(engine).transaction() as session:
        service.load(session)
    return engine


@pytest.fixture(autouse=True)
def _catalogue(loaded: Engine) -> None:
    """Every skills test runs against a database that holds the catalogue."""
