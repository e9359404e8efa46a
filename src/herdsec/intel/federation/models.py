"""Tables of federation: the peers this hub syncs with, the log of runs, and where pulled objects came from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herdsec.core.clock import utcnow
from herdsec.core.db import Base, BigId, UTCDateTime


class FederationPeer(Base):
    """A remote TAXII 2.1 collection or MISP feed, pulled from and/or pushed to on an interval.

    Pulled objects are stored as ``org_id``, an organization of kind ``hub`` that stands for the peer (never a
    member). ``secret`` (password or API key of the remote) is sealed with a key derived from
    ``HERDSEC_SECRET_KEY`` (AES-GCM). Cursors: ``pull_cursor`` is the remote's last ``X-TAXII-Date-Added-Last``
    (the next ``added_after``), ``push_cursor`` the last local ``stix_objects.seq`` examined for pushing.
    """

    __tablename__ = "federation_peers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2000))
    collection_id: Mapped[str | None] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(8))
    interval_seconds: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    username: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str | None] = mapped_column(Text)
    auth_kind: Mapped[str] = mapped_column(String(10), default="none")
    pull_cursor: Mapped[str | None] = mapped_column(String(40))
    push_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FederationRun(Base):
    """One pull and/or push of one peer: when, how much, and the error if it failed."""

    __tablename__ = "federation_runs"
    __table_args__ = (Index("ix_federation_runs_peer_started", "peer_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("federation_peers.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pulled: Mapped[int] = mapped_column(Integer, default=0)
    pushed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class FederationSource(Base):
    """The peer an object was pulled from (its source), also what keeps pushes from echoing it back."""

    __tablename__ = "federation_sources"
    __table_args__ = (UniqueConstraint("peer_id", "stix_id"), Index("ix_federation_sources_stix_id", "stix_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("federation_peers.id", ondelete="CASCADE"))
    stix_id: Mapped[str] = mapped_column(String(120))
    first_pulled_at: Mapped[datetime] = mapped_column(UTCDateTime)
