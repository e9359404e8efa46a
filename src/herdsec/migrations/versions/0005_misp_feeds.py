"""MISP feed pull state

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "misp_feed_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("feed", sa.String(length=500), nullable=False),
        sa.Column("event_uuid", sa.String(length=36), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_misp_feed_events_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_misp_feed_events")),
        sa.UniqueConstraint("org_id", "feed", "event_uuid", name=op.f("uq_misp_feed_events_org_id_feed_event_uuid")),
    )


def downgrade() -> None:
    op.drop_table("misp_feed_events")
