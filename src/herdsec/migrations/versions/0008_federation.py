"""federation

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 06:46:45.681280
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_peers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("collection_id", sa.String(length=200), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("auth_kind", sa.String(length=10), nullable=False),
        sa.Column("pull_cursor", sa.String(length=40), nullable=True),
        sa.Column("push_cursor", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_federation_peers_org_id_organizations"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_peers")),
        sa.UniqueConstraint("name", name=op.f("uq_federation_peers_name")),
    )
    with op.batch_alter_table("federation_peers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_peers_org_id"), ["org_id"], unique=False)

    op.create_table(
        "federation_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pulled", sa.Integer(), nullable=False),
        sa.Column("pushed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"],
            ["federation_peers.id"],
            name=op.f("fk_federation_runs_peer_id_federation_peers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_runs")),
    )
    with op.batch_alter_table("federation_runs", schema=None) as batch_op:
        batch_op.create_index("ix_federation_runs_peer_started", ["peer_id", "started_at"], unique=False)

    op.create_table(
        "federation_sources",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("stix_id", sa.String(length=120), nullable=False),
        sa.Column("first_pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["peer_id"],
            ["federation_peers.id"],
            name=op.f("fk_federation_sources_peer_id_federation_peers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_sources")),
        sa.UniqueConstraint("peer_id", "stix_id", name=op.f("uq_federation_sources_peer_id_stix_id")),
    )
    with op.batch_alter_table("federation_sources", schema=None) as batch_op:
        batch_op.create_index("ix_federation_sources_stix_id", ["stix_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("federation_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_sources_stix_id")

    op.drop_table("federation_sources")
    with op.batch_alter_table("federation_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_runs_peer_started")

    op.drop_table("federation_runs")
    with op.batch_alter_table("federation_peers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_peers_org_id"))

    op.drop_table("federation_peers")
