"""The event outbox: every change other members may care about, in commit order, written in the same transaction.

``append(session, kind, ...)`` queues an event on the session; the events are written just before the session
commits (a ``before_commit`` hook), numbered by ``core.counters`` ("event_seq"). The counter's row lock is held
from that moment until the commit ends, so an event id handed out later is always committed later: a reader that
has seen every event up to ``N`` never finds a late-committing ``N - 1`` behind its cursor. Taking the number at
commit time (not when the change was made) keeps that lock short: a long bundle ingest does not hold up a sighting.

After a commit that wrote events, every wake-up callback registered in this process runs (the stream and the
webhook worker read the outbox from their cursor then). On PostgreSQL the transaction also sends
``NOTIFY herdsec_events`` so that other processes wake up. The outbox is always the truth; wake-ups only say
"look now".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, Index, String, Text, event, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from herdsec.core import counters
from herdsec.core.clock import utcnow
from herdsec.core.db import Base, BigId, UTCDateTime

COUNTER = "event_seq"
CHANNEL = "herdsec_events"
_PENDING = "herdsec_events_pending"
_WROTE = "herdsec_events_wrote"


class Event(Base):
    """One outbox entry. ``first_seq``/``last_seq`` name a range of ``stix_objects.seq`` (one event per ingest
    batch); ``stix_id`` the main object otherwise; ``data`` is kind-specific JSON."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(BigInteger)
    stix_id: Mapped[str | None] = mapped_column(String(120))
    first_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class Pending:
    kind: str
    org_id: int | None
    stix_id: str | None
    first_seq: int | None
    last_seq: int | None
    data: dict[str, Any]


def append(
    session: Session,
    kind: str,
    /,
    *,
    org_id: int | None = None,
    stix_id: str | None = None,
    first_seq: int | None = None,
    last_seq: int | None = None,
    **data: Any,
) -> None:
    """Queue an event; it is written (and numbered) in this transaction, just before it commits."""
    pending: list[Pending] = session.info.setdefault(_PENDING, [])
    pending.append(Pending(kind, org_id, stix_id, first_seq, last_seq, data))


def write_pending(session: Session) -> list[int]:
    """Write the queued events now (normally done by the commit hook); returns their ids."""
    pending: list[Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return []
    top = counters.reserve(session, COUNTER, len(pending))
    ids = list(range(top - len(pending) + 1, top + 1))
    now = utcnow()
    session.execute(
        insert(Event),
        [
            {
                "id": event_id,
                "kind": p.kind,
                "org_id": p.org_id,
                "stix_id": p.stix_id,
                "first_seq": p.first_seq,
                "last_seq": p.last_seq,
                "created_at": now,
                "data": orjson.dumps(p.data, default=str).decode(),
            }
            for event_id, p in zip(ids, pending, strict=True)
        ],
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(top)})
    session.info[_WROTE] = True
    return ids


def last_id(session: Session) -> int:
    """The newest committed event id (0 when there is none)."""
    return int(session.scalar(select(func.max(Event.id))) or 0)


def read_after(session: Session, after: int, limit: int = 500) -> list[Event]:
    """Committed events with an id above ``after``, oldest first."""
    return list(session.scalars(select(Event).where(Event.id > after).order_by(Event.id).limit(limit)))


# --- wake-ups in this process ------------------------------------------------------------------------------------

_callbacks: set[Callable[[], None]] = set()
_lock = threading.Lock()


def on_commit(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` (from the committing thread) after each commit that wrote events; returns an undo."""
    with _lock:
        _callbacks.add(callback)

    def undo() -> None:
        with _lock:
            _callbacks.discard(callback)

    return undo


def _before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        write_pending(session)


def _after_commit(session: Session) -> None:
    if not session.info.pop(_WROTE, False):
        return
    with _lock:
        callbacks = list(_callbacks)
    for callback in callbacks:
        callback()


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WROTE, None)


event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
