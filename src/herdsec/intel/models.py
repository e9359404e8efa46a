"""Tables of the intel module: the STIX 2.1 object store, the observable value index and sightings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from herdsec.core.db import Base, BigId, UTCDateTime


class StixObject(Base):
    """One version of one STIX object, stored as canonical JSON plus the columns reads filter on.

    ``seq`` (equal to ``id``) is strictly increasing in commit order (TAXII ``added_after`` and ``next`` page on it,
    through the primary key); ``current``
    marks the newest version of each ``stix_id``. The visibility columns (``creator_org_id``, ``tlp``,
    ``distribution``, ``sharing_group_id``) are what :func:`herdsec.identity.visibility.visible_filter` reads.
    """

    __tablename__ = "stix_objects"
    # Few indexes on purpose (bulk ingest pays for each): the unique (stix_id, modified) index also serves look-ups
    # by stix_id; seq equals the primary key, so ranges of seq/date_added use the primary key.
    __table_args__ = (
        UniqueConstraint("stix_id", "modified"),
        Index("ix_stix_objects_type_current", "type", "current"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    stix_id: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(80))
    spec_version: Mapped[str] = mapped_column(String(8))
    created: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modified: Mapped[datetime] = mapped_column(UTCDateTime)
    date_added: Mapped[datetime] = mapped_column(UTCDateTime)
    current: Mapped[bool] = mapped_column(Boolean)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    creator_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"))
    tlp: Mapped[int] = mapped_column(SmallInteger)
    distribution: Mapped[str] = mapped_column(String(20))
    sharing_group_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_groups.id", ondelete="RESTRICT"))
    name: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[str] = mapped_column(Text)


class Observable(Base):
    """A normalised value carried by an object version (from an indicator pattern or an SCO): the index that
    serves lookup, correlation and detection exports. Long values are keyed by their SHA-256 (``value_key``)."""

    __tablename__ = "observables"
    __table_args__ = (Index("ix_observables_type_key", "type", "value_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("stix_objects.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    value_key: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(String(200))
    warninglists: Mapped[str | None] = mapped_column(String(400))


class Sighting(Base):
    """Someone saw an indicator (or a value) again, or reports it as a false positive or expired."""

    __tablename__ = "sightings"
    __table_args__ = (Index("ix_sightings_object_last", "object_id", "last_seen"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    object_id: Mapped[int | None] = mapped_column(ForeignKey("stix_objects.id", ondelete="CASCADE"))
    stix_id: Mapped[str] = mapped_column(String(120), index=True)  # the sighted object (sighting_of_ref)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sighting_stix_id: Mapped[str | None] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(16))


class ObjectTag(Base):
    """Labels and ATT&CK techniques an object carries or is linked to (by relationship), for search."""

    __tablename__ = "object_tags"
    __table_args__ = (
        UniqueConstraint("stix_id", "kind", "value"),
        Index("ix_object_tags_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
