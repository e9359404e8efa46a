"""Counters that hand out strictly increasing numbers in commit order.

``reserve(session, name, n)`` increments a row and returns the new top value in the caller's transaction. The row
stays locked until that transaction ends (a row lock on PostgreSQL, the write lock on SQLite), so writers that take
numbers from the same counter are serialised: a number handed out later is always committed later. This is what
TAXII ``added_after``/``next`` paging and the event outbox rely on (no gaps appear behind a reader's cursor).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from herdsec.core.db import Base


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


_RESERVE = {  # at driver level: a bulk write takes numbers several times per batch
    "sqlite": "UPDATE counters SET value = value + ? WHERE name = ? RETURNING value",
    "postgresql": "UPDATE counters SET value = value + %s WHERE name = %s RETURNING value",
}


def reserve(session: Session, name: str, n: int = 1) -> int:
    """Add ``n`` to the counter and return its new value: the caller owns ``value - n + 1 .. value``."""
    connection = session.connection()
    sql = _RESERVE.get(connection.dialect.name)
    if sql is None:
        new = session.execute(
            update(Counter).where(Counter.name == name).values(value=Counter.value + n).returning(Counter.value)
        ).scalar()
    else:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            cursor.execute(sql, (n, name))
            row = cursor.fetchone()
        finally:
            cursor.close()
        new = None if row is None else row[0]
    if new is None:
        session.execute(insert(Counter).values(name=name, value=0))
        return reserve(session, name, n)
    return int(new)


def peek(session: Session, name: str) -> int:
    value = session.scalar(select(Counter.value).where(Counter.name == name))
    return int(value or 0)


def advance_to(session: Session, name: str, at_least: int) -> int:
    """Raise the counter to ``at_least`` if it is lower (under the same lock); returns the value now held."""
    current = reserve(session, name, 0)
    if current < at_least:
        session.execute(update(Counter).where(Counter.name == name).values(value=at_least))
        return at_least
    return current
