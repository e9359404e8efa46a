"""A test-only table with the visibility columns, standing in for the intel tables of later modules."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table

from herdsec.identity.visibility import SharedColumns

test_metadata = MetaData()
shared_items = Table(
    "test_shared_items",
    test_metadata,
    Column("id", Integer, primary_key=True),
    Column("creator_org_id", Integer, nullable=False),
    Column("tlp", Integer, nullable=False),
    Column("distribution", String(20), nullable=False),
    Column("sharing_group_id", Integer),
    Index("ix_test_shared_items_visibility", "distribution", "tlp", "creator_org_id"),
)
SHARED_COLUMNS = SharedColumns(
    creator_org_id=shared_items.c.creator_org_id,
    tlp=shared_items.c.tlp,
    distribution=shared_items.c.distribution,
    sharing_group_id=shared_items.c.sharing_group_id,
)
