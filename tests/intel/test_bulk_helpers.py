"""The bulk-load helpers leave the connection and the process as they found them."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from herdsec.core.bulk import BULK_GC_THRESHOLD, fewer_collections, page_cache_for
from herdsec.intel.ingest import added_times


def test_the_sqlite_page_cache_is_sized_to_the_load_and_restored(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    before = session.execute(text("PRAGMA cache_size")).scalar()
    with page_cache_for(session, 100 * 1024 * 1024):
        assert session.execute(text("PRAGMA cache_size")).scalar() == -100 * 1024
    assert session.execute(text("PRAGMA cache_size")).scalar() == before


def test_collection_thresholds_are_restored_after_nested_use() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        with fewer_collections():
            assert gc.get_threshold()[0] == BULK_GC_THRESHOLD
        assert gc.get_threshold()[0] == BULK_GC_THRESHOLD  # the outer user is still inside
    assert gc.get_threshold() == before


def test_date_added_texts_are_one_microsecond_apart_across_a_second() -> None:
    base = 1_764_547_199_999_998  # 2025-11-30 23:59:59.999998 UTC
    assert added_times("sqlite", base, 3) == [
        "2025-11-30 23:59:59.999998",
        "2025-11-30 23:59:59.999999",
        "2025-12-01 00:00:00.000000",
    ]
    assert added_times("postgresql", base, 1) == ["2025-11-30 23:59:59.999998+00:00"]
