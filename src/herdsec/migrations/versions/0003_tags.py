"""object tags

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 11:00:53.890315
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_tags",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stix_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_tags")),
        sa.UniqueConstraint("stix_id", "kind", "value", name=op.f("uq_object_tags_stix_id_kind_value")),
    )
    with op.batch_alter_table("object_tags", schema=None) as batch_op:
        batch_op.create_index("ix_object_tags_kind_value", ["kind", "value"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("object_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_object_tags_kind_value")

    op.drop_table("object_tags")
