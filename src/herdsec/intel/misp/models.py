"""Tables of the MISP adapter: what each organization last pulled from each remote MISP feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herdsec.core.db import Base, BigId, UTCDateTime


class MispFeedEvent(Base):
    """The timestamp of an event of a remote feed when ``org_id`` last pulled it (pulls fetch only changes)."""

    __tablename__ = "misp_feed_events"
    __table_args__ = (UniqueConstraint("org_id", "feed", "event_uuid"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    feed: Mapped[str] = mapped_column(String(500))
    event_uuid: Mapped[str] = mapped_column(String(36))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime)
