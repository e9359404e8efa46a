"""The real-time stream's rules: cursors, the items an outbox event expands to, filters and visibility at delivery.

An outbox event (``core.events``) expands to *items*, one per object it concerns: an ``objects`` event (one per
ingest batch) to one item per stored object version, a ``sighting`` event to one item per sighted object. Each
item's id is ``<event id>.<seq>``, where ``seq`` is the object version's ``stix_objects.seq``: unique and
increasing, so a client echoes the last one it got as ``Last-Event-ID`` and resumes exactly after it. A bare
``<event id>`` means "after that whole event"; ``0`` replays everything.

Items carry the visibility facts of what they reveal, and :meth:`Subscription.admits` applies
:func:`herdsec.identity.visibility.may_see` to them (the in-memory twin of ``visible_objects``; a property test
keeps the two equal), so one read of the outbox serves every subscriber of a process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from herdsec import identity
from herdsec.core import events
from herdsec.core.errors import N_, InvalidInput
from herdsec.core.text import ascii_digits
from herdsec.identity import Principal
from herdsec.identity.visibility import Distribution, Shared, Tlp, Viewer, may_see
from herdsec.intel.models import StixObject

WHOLE = 2**62  # "every item of the event"
MAX_ID_TEXT = 40
KNOWN_KINDS = ("objects", "sighting")


@dataclass(frozen=True, order=True, slots=True)
class Cursor:
    """A position in the stream: every item up to ``(event, seq)`` has been delivered."""

    event: int
    seq: int = WHOLE

    def __str__(self) -> str:
        return str(self.event) if self.seq >= WHOLE else f"{self.event}.{self.seq}"


def parse_cursor(text: str) -> Cursor:
    """``12``, ``12.3456`` (an item id) or ``0``; anything else is refused with a clear message."""
    raw = text.strip()
    head, dot, tail = raw.partition(".")
    if len(raw) > MAX_ID_TEXT or not ascii_digits(head) or (dot and not ascii_digits(tail)):
        raise InvalidInput(
            N_("Last-Event-ID %(value)r is not a stream position (expected an id such as 42 or 42.1337)"),
            where="Last-Event-ID",
            value=raw[:MAX_ID_TEXT],
        )
    return Cursor(int(head), int(tail) if dot else WHOLE)


def check_not_future(cursor: Cursor, newest: int) -> None:
    if cursor.event > newest:
        raise InvalidInput(
            N_(
                "Last-Event-ID %(value)s is newer than the newest event of this hub (%(newest)s): it comes from "
                "another hub or a reset database; resume with 0 to replay everything"
            ),
            where="Last-Event-ID",
            value=str(cursor),
            newest=newest,
        )


@dataclass(slots=True)
class Item:
    """One deliverable change, with what deciding who may receive it needs."""

    cursor: Cursor
    kind: str  # object.created, object.version, object.revoked, sighting
    stix_id: str
    type: str
    object_type: str  # the type of the object concerned (for a sighting: of the sighted object)
    shared: Shared  # visibility of what the item reveals (for a sighting: the sighted object)
    sector: str | None  # of the sharing organization (objects) or of the reporting one (sightings)
    creator_org_id: int
    reporter_org_id: int | None
    pk: int
    body: bytes  # the JSON sent to everyone admitted
    named_body: bytes | None = None  # sightings: with the reporter's name (the creator's and coordinators' view)
    _frames: list[bytes | None] = field(default_factory=lambda: [None, None], repr=False)

    def frame_for(self, principal: Principal) -> bytes:
        """The SSE block of this item as ``principal`` may see it (built once per variant)."""
        named = self.named_body is not None and self.body_for(principal) is self.named_body
        cached = self._frames[1 if named else 0]
        if cached is None:
            cached = f"id: {self.cursor}\ndata: ".encode() + self.body_for(principal) + b"\n\n"
            self._frames[1 if named else 0] = cached
        return cached

    def body_for(self, principal: Principal) -> bytes:
        if self.named_body is not None and (
            principal.is_coordinator or principal.org_id in (self.creator_org_id, self.reporter_org_id)
        ):
            return self.named_body
        return self.body


@dataclass(frozen=True, slots=True)
class Filters:
    """What a subscriber asked for; ``None`` means no restriction."""

    types: frozenset[str] | None = None
    tlps: frozenset[Tlp] | None = None
    min_score: float | None = None
    sectors: frozenset[str] | None = None

    @classmethod
    def parse(cls, types: str | None, tlp: str | None, min_score: float | None, sector: str | None) -> Filters:
        return cls(
            types=_words(types),
            tlps=frozenset(Tlp.parse(t) for t in _words(tlp) or ()) or None,
            min_score=min_score,
            sectors=_words(sector, lower=False),
        )


def _words(text: str | None, *, lower: bool = True) -> frozenset[str] | None:
    if not text:
        return None
    words = frozenset(w.strip().lower() if lower else w.strip() for w in text.split(",") if w.strip())
    return words or None


@dataclass(slots=True)
class Subscription:
    """A member listening: who (for visibility) and what (filters)."""

    principal: Principal
    filters: Filters = field(default_factory=Filters)
    bulk: bool = False  # deliveries that leave the hub unattended (webhooks): never RED
    viewer: Viewer = field(init=False)

    def __post_init__(self) -> None:
        self.viewer = identity.viewer_for(self.principal, bulk=self.bulk)

    def admits(self, item: Item) -> bool:
        """Visibility first (unknown markings fail closed in ``may_see``), then the filters (not the score)."""
        if not may_see(self.viewer, item.shared):
            return False
        f = self.filters
        if f.types is not None and item.type not in f.types:
            return False
        if f.tlps is not None and item.shared.tlp not in f.tlps:
            return False
        if f.sectors is not None and item.sector not in f.sectors:
            return False
        return f.min_score is None or item.object_type == "indicator"  # scores exist for indicators only


# --- reading the outbox -----------------------------------------------------------------------------------------


def read(session: Session, after: Cursor, max_items: int = 1000) -> tuple[list[Item], Cursor]:
    """The items after ``after`` (at most about ``max_items``), and the cursor reached (past events with nothing
    to deliver too). Unknown event kinds expand to nothing: they are for other consumers."""
    items: list[Item] = []
    cursor = after
    while len(items) < max_items:
        first = cursor.event if cursor.seq < WHOLE else cursor.event + 1
        batch = session.scalars(
            select(events.Event).where(events.Event.id >= first).order_by(events.Event.id).limit(100)
        ).all()
        if not batch:
            break
        for event in batch:
            below = cursor.seq if event.id == cursor.event else 0
            got, done = _expand(session, event, below, max_items - len(items))
            items.extend(got)
            if not done:
                return items, Cursor(event.id, got[-1].cursor.seq)
            cursor = Cursor(event.id)
            if len(items) >= max_items:
                return items, cursor
    return items, cursor


def _expand(session: Session, event: events.Event, after_seq: int, limit: int) -> tuple[list[Item], bool]:
    if event.kind == "objects":
        return _objects(session, event, after_seq, max(limit, 1))
    if event.kind == "sighting":
        return _sightings(session, event, after_seq), True
    return [], True


def _shared(row: Any) -> Shared:
    try:
        tlp = Tlp(row.tlp)
        distribution = Distribution(row.distribution)
    except ValueError:  # fail closed: only the creator's organization
        tlp, distribution = Tlp.UNKNOWN, Distribution.ORGANIZATION
    return Shared(row.creator_org_id, tlp, distribution, row.sharing_group_id)


def _objects(session: Session, event: events.Event, after_seq: int, limit: int) -> tuple[list[Item], bool]:
    assert event.first_seq is not None
    assert event.last_seq is not None
    older = aliased(StixObject)
    # "a new version" only when an older version had the same audience: whoever sees this one saw that one, so the
    # kind of event tells nothing about versions the receiver must not know of
    earlier = exists().where(
        older.stix_id == StixObject.stix_id,
        older.id < StixObject.id,
        older.creator_org_id == StixObject.creator_org_id,
        older.tlp == StixObject.tlp,
        older.distribution == StixObject.distribution,
        older.sharing_group_id.is_not_distinct_from(StixObject.sharing_group_id),
    )
    rows = session.execute(
        select(
            StixObject.id,
            StixObject.stix_id,
            StixObject.type,
            StixObject.revoked,
            StixObject.creator_org_id,
            StixObject.tlp,
            StixObject.distribution,
            StixObject.sharing_group_id,
            StixObject.data,
            earlier.label("earlier"),
        )
        .where(StixObject.id >= max(event.first_seq, after_seq + 1), StixObject.id <= event.last_seq)
        .order_by(StixObject.id)
        .limit(limit + 1)
    ).all()
    done = len(rows) <= limit
    rows = rows[:limit]
    orgs = identity.get_orgs(session, {r.creator_org_id for r in rows})
    items = []
    for row in rows:
        kind = "object.revoked" if row.revoked else "object.version" if row.earlier else "object.created"
        org = orgs.get(row.creator_org_id)
        shared = _shared(row)
        cursor = Cursor(event.id, row.id)
        body = {
            "event_id": str(cursor),
            "event": kind,
            "id": row.stix_id,
            "type": row.type,
            "tlp": shared.tlp.label,
            "organization": org.name if org else None,
            "sector": org.sector if org else None,
            "object": orjson.Fragment(row.data),
        }
        items.append(
            Item(
                cursor,
                kind,
                row.stix_id,
                row.type,
                row.type,
                shared,
                org.sector if org else None,
                row.creator_org_id,
                None,
                row.id,
                orjson.dumps(body),
            )
        )
    return items, done


def _sightings(session: Session, event: events.Event, after_seq: int) -> list[Item]:
    data = orjson.loads(event.data)
    targets = [str(t) for t in data.get("objects", [])]
    rows = session.execute(
        select(
            StixObject.id,
            StixObject.stix_id,
            StixObject.type,
            StixObject.creator_org_id,
            StixObject.tlp,
            StixObject.distribution,
            StixObject.sharing_group_id,
        )
        .where(StixObject.stix_id.in_(targets), StixObject.current.is_(True), StixObject.id > after_seq)
        .order_by(StixObject.id)
    ).all()
    reporter = identity.get_orgs(session, [event.org_id] if event.org_id else []).get(event.org_id or 0)
    items = []
    for row in rows:
        cursor = Cursor(event.id, row.id)
        shared = _shared(row)
        sighting = {
            "kind": data.get("kind"),
            "count": data.get("count"),
            "first_seen": data.get("first_seen"),
            "last_seen": data.get("last_seen"),
            "sector": reporter.sector if reporter else None,
        }
        body = {
            "event_id": str(cursor),
            "event": "sighting",
            "id": row.stix_id,
            "type": "sighting",
            "object_type": row.type,
            "tlp": shared.tlp.label,
            "sighting": sighting,
        }
        named = {**body, "sighting": {**sighting, "organization": reporter.name if reporter else None}}
        items.append(
            Item(
                cursor,
                "sighting",
                row.stix_id,
                "sighting",
                row.type,
                shared,
                reporter.sector if reporter else None,
                row.creator_org_id,
                event.org_id,
                row.id,
                orjson.dumps(body),
                orjson.dumps(named),
            )
        )
    return items


def newest_cursor(session: Session) -> Cursor:
    return Cursor(events.last_id(session))


def scores(session: Session, principal: Principal, items: list[Item], *, bulk: bool = False) -> dict[int, float]:
    """Decay scores now, as ``principal`` sees them (``bulk``: through its bulk view), of the indicators the items
    concern (by object pk)."""
    from herdsec.intel.search import _scores

    pks = sorted({i.pk for i in items})
    if not pks:
        return {}
    objects = list(session.scalars(select(StixObject).where(StixObject.id.in_(pks))))
    by_stix = _scores(session, principal, objects, bulk=bulk)
    return {o.id: by_stix[o.stix_id] for o in objects if o.stix_id in by_stix}
