"""What an actor may export: the one selection rule behind detection exports (and the scanner's IOC sets).

A value is exportable when it is carried by a current, not revoked indicator the actor may see in bulk
(:func:`herdsec.intel.access.visible_objects` with a bulk viewer: never RED, never an unknown marking), and, unless
asked otherwise, the value is on no warninglist, is well formed, and at least one of its indicators is neither
expired (decay score at or below the model's threshold, ``valid_until`` passed, or an expiration report) nor
reported as a false positive. Values are read type by type in ``value_key`` order with keyset paging over the
``(type, value_key)`` index, a page at a time, so a million indicators stream in constant memory; each value is
given once, with the newest exportable indicator that carries it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import ColumnElement, String, func, select, type_coerce
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import as_utc, utcnow
from herdsec.core.errors import N_, InvalidInput
from herdsec.identity import Principal
from herdsec.intel import decay, sightings
from herdsec.intel.access import visible_objects
from herdsec.intel.models import Observable, Sighting, StixObject
from herdsec.intel.sightings import visible_reports
from herdsec.intel.stix import parse_timestamp
from herdsec.ioc.types import IocType

BATCH = 5000
# Value types a detection export can carry (CVEs are not something a sensor sees on the wire).
EXPORTABLE_TYPES: tuple[IocType, ...] = tuple(t for t in IocType if t is not IocType.CVE)


class ExportValue(NamedTuple):
    """One exportable value and the newest exportable indicator that carries it (a named tuple: a million of
    them are made per export)."""

    type: IocType
    value: str
    indicator_id: str  # STIX id of that indicator
    name: str | None
    source: str  # the sharing organization's name
    tlp: int
    date_added: datetime
    modified: datetime
    score: float  # decay score now (with the false-positive penalty)
    indicators: int  # exportable indicators carrying the value
    warninglists: tuple[str, ...] = ()
    problem: str | None = None
    expired: bool = False
    false_positive: bool = False


@dataclass(frozen=True, slots=True)
class ExportState:
    """What an export is a function of, besides the viewer and the time: the newest object version and sighting
    report the viewer's bulk view can read, and how many current versions it can read (a version it cannot see
    that supersedes one it can see changes the count, not the maximum). Only what the viewer may see counts, so
    neither the ETag nor the RPZ serial moves when someone shares something the viewer must not learn about."""

    max_object_id: int
    max_sighting_id: int
    newest_change: datetime | None
    current_objects: int = 0


def export_state(session: Session, actor: Principal) -> ExportState:
    """Three indexed aggregates under the actor's bulk visibility."""
    visible = visible_objects(identity.viewer_for(actor, bulk=True))
    max_object = session.scalar(select(func.max(StixObject.id)).where(visible)) or 0
    current = session.scalar(select(func.count()).where(StixObject.current.is_(True), visible)) or 0
    sightings = select(func.max(Sighting.id)).where(
        Sighting.object_id.in_(select(StixObject.id).where(visible)),
        visible_reports(actor, objects=[visible]),
    )
    max_sighting = session.scalar(sightings) or 0
    added = session.scalar(select(StixObject.date_added).where(StixObject.id == max_object)) if max_object else None
    reported = session.scalar(select(Sighting.created_at).where(Sighting.id == max_sighting)) if max_sighting else None
    newest = max((t for t in (added, reported) if t is not None), default=None)
    return ExportState(max_object, max_sighting, newest, current)


def parse_types(types: Iterable[str | IocType] | None) -> tuple[IocType, ...]:
    """The value types asked for (all exportable types when none), refusing unknown names."""
    if not types:
        return EXPORTABLE_TYPES
    wanted: list[IocType] = []
    for item in types:
        for name in str(item).split(","):
            name = name.strip().lower()
            if not name:
                continue
            try:
                kind = IocType(name)
            except ValueError:
                raise InvalidInput(
                    N_("unknown value type %(type)r; expected one of %(types)s"),
                    where="type",
                    type=name[:40],
                    types=", ".join(t.value for t in EXPORTABLE_TYPES),
                ) from None
            if kind not in wanted:
                wanted.append(kind)
    return tuple(wanted) or EXPORTABLE_TYPES


@dataclass(frozen=True, slots=True)
class _Selection:
    actor: Principal
    since: datetime | None
    now: datetime
    include_warninglisted: bool
    include_expired: bool
    include_false_positive: bool
    include_malformed: bool
    as_of: ExportState | None
    reports: bool  # are there sighting reports at all (else none is looked up)


def exportable_values(
    session: Session,
    actor: Principal,
    *,
    types: Iterable[str | IocType] | None = None,
    since: datetime | None = None,
    include_warninglisted: bool = False,
    include_expired: bool = False,
    include_false_positive: bool = False,
    include_malformed: bool = False,
    now: datetime | None = None,
    as_of: ExportState | None = None,
    batch: int = BATCH,
) -> Iterator[ExportValue]:
    """The values ``actor`` may export, type by type in index order, each once.

    ``since`` keeps indicators added at or after it. ``now`` is the moment decay is evaluated at (default: the
    wall clock). ``as_of`` (from :func:`export_state`) ignores object versions and sighting reports newer than
    it, so that an export matches the state its ETag was computed from. Visibility never relaxes.
    """
    selection = _Selection(
        actor=actor,
        since=since,
        now=now or utcnow(),
        include_warninglisted=include_warninglisted,
        include_expired=include_expired,
        include_false_positive=include_false_positive,
        include_malformed=include_malformed,
        as_of=as_of,
        reports=session.scalar(select(func.max(Sighting.id))) is not None,
    )
    names: dict[int, str] = {}
    for kind in parse_types(types):
        for rows in _pages(session, selection, kind, batch):
            yield from _values(session, selection, kind, rows, names)


_COLUMNS = (
    Observable.value_key,
    Observable.value,
    Observable.problem,
    Observable.warninglists,
    StixObject.id,
    StixObject.stix_id,
    StixObject.name,
    StixObject.creator_org_id,
    StixObject.tlp,
    # Timestamps come raw (text on SQLite) and are converted only for the row an export picks.
    type_coerce(StixObject.date_added, String).label("date_added"),
    type_coerce(StixObject.modified, String).label("modified"),
    StixObject.data,
)


def _conditions(selection: _Selection, kind: IocType) -> list[ColumnElement[bool]]:
    conditions = [
        Observable.type == kind.value,
        StixObject.type == "indicator",
        StixObject.current.is_(True),
        StixObject.revoked.is_(False),
        visible_objects(identity.viewer_for(selection.actor, bulk=True)),
    ]
    if not selection.include_warninglisted:
        conditions.append(Observable.warninglists.is_(None))
    if not selection.include_malformed:
        conditions.append(Observable.problem.is_(None))
    if selection.since is not None:
        conditions.append(StixObject.date_added >= selection.since)
    if selection.as_of is not None:
        conditions.append(StixObject.id <= selection.as_of.max_object_id)
    return conditions


def _pages(session: Session, selection: _Selection, kind: IocType, batch: int) -> Iterator[Sequence[Any]]:
    """Pages of rows ending on a value boundary (a value's rows are never split across two pages)."""
    base = (
        select(*_COLUMNS).join(StixObject, StixObject.id == Observable.object_id).where(*_conditions(selection, kind))
    )
    connection = session.connection()  # Core rows: no ORM machinery per row
    after: str | None = None
    inclusive = False
    while True:
        query = base
        if after is not None:
            query = query.where(Observable.value_key >= after if inclusive else Observable.value_key > after)
        rows = connection.execute(query.order_by(Observable.value_key).limit(batch)).all()
        if len(rows) < batch:
            if rows:
                yield rows
            return
        last = rows[-1][0]
        if rows[0][0] == last:  # one value fills the page: read it whole
            yield connection.execute(base.where(Observable.value_key == last)).all()
            after, inclusive = last, False
            continue
        complete = [r for r in rows if r[0] != last]
        yield complete
        after, inclusive = last, True


# Positions of the selected columns (index access on rows is several times faster than attribute access).
_KEY, _VALUE, _PROBLEM, _LISTS, _PK, _STIX_ID, _NAME, _ORG, _TLP, _ADDED, _MODIFIED, _DATA = range(len(_COLUMNS))
_Candidate = tuple[Any, float, bool, bool]  # (row, score, expired, false positive)


def _moment(raw: Any) -> datetime:
    """A raw timestamp column: naive UTC text on SQLite, a datetime elsewhere."""
    if isinstance(raw, datetime):
        return as_utc(raw)
    return datetime.fromisoformat(raw).replace(tzinfo=UTC)


def _judge(
    row: Any, kind: str, model: decay.DecayModel, inputs: tuple[datetime | None, int, datetime | None], now: datetime
) -> _Candidate:
    data = orjson.loads(row[_DATA])
    newest, fps, expired_at = inputs
    valid_from = parse_timestamp(data.get("valid_from")) or _moment(row[_MODIFIED])
    valid_until = parse_timestamp(data.get("valid_until")) if "valid_until" in data else None
    confidence = data.get("confidence")
    # Expiry is judged without the false-positive penalty: a false-positive report is its own criterion.
    clean = decay.evaluate(
        value_type=kind,
        confidence=confidence,
        valid_from=valid_from,
        valid_until=valid_until,
        last_sighting=newest,
        false_positives=0,
        expired_at=expired_at,
        now=now,
        model=model,
    )
    if fps == 0:
        return (row, clean.score, clean.expired, False)
    doubted = decay.evaluate(
        value_type=kind,
        confidence=confidence,
        valid_from=valid_from,
        valid_until=valid_until,
        last_sighting=newest,
        false_positives=fps,
        expired_at=expired_at,
        now=now,
        model=model,
    )
    return (row, doubted.score, clean.expired, True)


def _values(
    session: Session, selection: _Selection, kind: IocType, rows: Sequence[Any], names: dict[int, str]
) -> Iterator[ExportValue]:
    stix_ids = sorted({r[_STIX_ID] for r in rows})
    inputs: dict[str, tuple[datetime | None, int, datetime | None]] = {}
    for start in range(0, len(stix_ids) if selection.reports else 0, 2000):
        inputs.update(
            sightings.decay_inputs(
                session,
                selection.actor,
                stix_ids[start : start + 2000],
                bulk=True,
                max_sighting_id=selection.as_of.max_sighting_id if selection.as_of is not None else None,
            )
        )
    missing = {r[_ORG] for r in rows} - names.keys()
    if missing:
        names.update({i: o.name for i, o in identity.get_orgs(session, missing).items()})
    no_reports: tuple[datetime | None, int, datetime | None] = (None, 0, None)
    keep_expired, keep_doubted, now, type_name = (
        selection.include_expired,
        selection.include_false_positive,
        selection.now,
        kind.value,
    )
    model = decay.model_for(type_name)
    kept: list[_Candidate] = []
    key = None
    for row in rows:
        if row[_KEY] != key:
            if kept:
                yield _value(kind, kept, names)
                kept = []
            key = row[_KEY]
        candidate = _judge(row, type_name, model, inputs.get(row[_STIX_ID], no_reports), now)
        if (keep_expired or not candidate[2]) and (keep_doubted or not candidate[3]):
            kept.append(candidate)
    if kept:
        yield _value(kind, kept, names)


def _preference(candidate: _Candidate) -> tuple[bool, int]:
    return (not candidate[2] and not candidate[3], candidate[0][_PK])


def _value(kind: IocType, kept: list[_Candidate], names: dict[int, str]) -> ExportValue:
    best = kept[0] if len(kept) == 1 else max(kept, key=_preference)
    row, score, expired, doubted = best
    lists = row[_LISTS]
    return ExportValue(
        kind,
        row[_VALUE],
        row[_STIX_ID],
        row[_NAME],
        names.get(row[_ORG], ""),
        row[_TLP],
        _moment(row[_ADDED]),
        _moment(row[_MODIFIED]),
        score if len(kept) == 1 else max(c[1] for c in kept),
        len(kept),
        tuple(lists.split(",")) if lists else (),
        row[_PROBLEM],
        expired,
        doubted,
    )


def visible_object_data(
    session: Session,
    actor: Principal,
    *,
    since: datetime | None = None,
    stix_types: Iterable[str] | None = None,
    as_of: ExportState | None = None,
    batch: int = 2000,
) -> Iterator[str]:
    """The stored JSON of every current object ``actor`` may see in bulk (revoked ones too: their revocation is
    news), oldest first, keyset-paged on the primary key."""
    conditions = [StixObject.current.is_(True), visible_objects(identity.viewer_for(actor, bulk=True))]
    if since is not None:
        conditions.append(StixObject.date_added >= since)
    wanted = sorted(set(stix_types or ()))
    if wanted:
        conditions.append(StixObject.type.in_(wanted))
    if as_of is not None:
        conditions.append(StixObject.id <= as_of.max_object_id)
    after = 0
    while True:
        rows = session.execute(
            select(StixObject.id, StixObject.data)
            .where(StixObject.id > after, *conditions)
            .order_by(StixObject.id)
            .limit(batch)
        ).all()
        for row in rows:
            yield row.data
        if len(rows) < batch:
            return
        after = rows[-1].id
