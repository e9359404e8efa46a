"""Import MISP events into the store: converted to STIX (``convert``) and stored through the one ingest path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import N_, PermissionDenied
from herdsec.identity import Principal, Role
from herdsec.identity.logic import name_key
from herdsec.identity.visibility import Tlp
from herdsec.intel.ingest import Audience, ingest_items
from herdsec.intel.misp.convert import EventConverter, Item
from herdsec.intel.misp.reader import STREAM_MIN_BYTES, read_events
from herdsec.intel.misp.schemas import MispEventStatus, MispImportStatus, MispProblem
from herdsec.intel.misp.vocab import BadValue, Reach
from herdsec.intel.models import ObjectTag, Sighting
from herdsec.intel.prepare import Built

MAX_PROBLEMS_LISTED = 10_000
EVENT_TAG = "misp-event"  # object_tags kind: the MISP uuid of a stored report, to find it again for export


def import_events(
    session: Session,
    actor: Principal,
    stream: IO[bytes],
    *,
    tlp: str | None = None,
    distribution: str | None = None,
    source: str = "misp",
    stream_over: int = STREAM_MIN_BYTES,
    trust_built: bool = True,
) -> MispImportStatus:
    """Store the MISP events of a JSON document as ``actor``'s organization.

    ``tlp`` applies to events without a ``tlp:*`` tag (default amber). ``distribution``, when given, caps how far
    the events may go (they keep their own distribution when it is narrower); without it each event's own MISP
    distribution applies (community when it has none). ``trust_built=False`` sends every object through the general
    per-object checks and pattern parsing, as a bundle's objects are (the reference the tests hold the converter's
    fast path to)."""
    if not actor.has_role(Role.ANALYST) or actor.org_id == 0:
        raise PermissionDenied(N_("sharing needs the analyst or admin role in a member organization"))
    cap = _cap(actor, distribution)
    org_uuid = identity.get_org(session, actor.org_id).uuid
    resolve = _group_resolver(session, actor)
    status = MispImportStatus()
    for document in read_events(stream, stream_over=stream_over):
        converter = EventConverter(org_uuid=org_uuid, resolve_group=resolve, cap=cap)
        event = _import_one(
            session,
            actor,
            converter,
            document.header,
            document.attributes,
            document.objects,
            tlp=tlp,
            source=source,
            trust_built=trust_built,
        )
        status.events.append(event)
        status.total_count += event.total_count
        status.success_count += event.success_count
        status.stored_count += event.stored_count
        status.failure_count += event.failure_count
    return status


def _cap(actor: Principal, distribution: str | None) -> Reach | None:
    if not distribution:
        return None
    audience = Audience.parse(actor, None, distribution)  # checks sharing-group membership
    return Reach(audience.distribution, audience.sharing_group_id)


def _group_resolver(session: Session, actor: Principal) -> Any:
    """Hub sharing groups the actor's organization belongs to, matched by uuid, else by name."""
    groups = [g for g in identity.list_groups(session, actor) if g.id in actor.group_ids]
    by_uuid = {g.uuid.lower(): g.id for g in groups}
    by_name = {name_key(g.name): g.id for g in groups}

    def resolve(group_uuid: str | None, name: str | None) -> int | None:
        if group_uuid and group_uuid.lower() in by_uuid:
            return by_uuid[group_uuid.lower()]
        return by_name.get(name_key(name)) if name else None

    return resolve


def _import_one(
    session: Session,
    actor: Principal,
    converter: EventConverter,
    header: dict[str, Any],
    attributes: Iterator[Any],
    objects: Iterator[Any],
    *,
    tlp: str | None,
    source: str,
    trust_built: bool,
) -> MispEventStatus:
    uuid = header.get("uuid") if isinstance(header.get("uuid"), str) else None
    places: list[tuple[str, str | None]] = []

    audiences: dict[Reach, Audience] = {}  # one per reach: the ingest groups its batches by audience

    def items() -> Iterator[tuple[dict[str, Any], Audience, Built | None]]:
        for item in converter.convert(header, attributes, objects):
            places.append((item.where, item.uuid))
            audience = audiences.get(item.reach)
            if audience is None:
                audience = audiences[item.reach] = _audience(item)
            yield item.obj, audience, item.built if trust_built else None

    try:
        ingested = ingest_items(session, actor, items(), tlp=tlp, source=source)
    except BadValue as exc:
        return MispEventStatus(
            uuid=uuid,
            info=converter.info,
            total_count=1,
            failure_count=1,
            failures=[MispProblem(where="Event", uuid=uuid, reason=str(exc))],
        )
    failures = [
        MispProblem(where=places[f.index][0], uuid=places[f.index][1], reason=f.reason) for f in ingested.failures
    ]
    refused_report = any(f.where == "Event" for f in failures)
    if converter.report_id and not refused_report:
        _remember(session, converter.report_id, converter.event_uuid or "")
    _sighting_kinds(session, converter.sighting_kinds)
    problems = converter.failures + failures
    return MispEventStatus(
        uuid=converter.event_uuid or uuid,
        info=converter.info,
        report_id=None if refused_report else converter.report_id,
        attribute_count=converter.attribute_count,
        total_count=ingested.total_count + len(converter.failures),
        success_count=ingested.success_count,
        stored_count=ingested.stored_count,
        failure_count=ingested.failure_count + len(converter.failures),
        failures=problems[:MAX_PROBLEMS_LISTED],
        notices=converter.notices[:MAX_PROBLEMS_LISTED],
    )


def _audience(item: Item) -> Audience:
    # The TLP of an Audience is only the default for unmarked objects; the ingest's own default applies.
    return Audience(Tlp.AMBER, item.reach.distribution, item.reach.group_id)


def _remember(session: Session, report_id: str, event_uuid: str) -> None:
    known = session.scalar(
        select(ObjectTag.id).where(
            ObjectTag.stix_id == report_id, ObjectTag.kind == EVENT_TAG, ObjectTag.value == event_uuid
        )
    )
    if known is None:
        session.add(ObjectTag(stix_id=report_id, kind=EVENT_TAG, value=event_uuid))
        session.flush()


def _sighting_kinds(session: Session, kinds: dict[str, str]) -> None:
    """MISP false-positive and expiration sightings count as such (STIX sightings only say "seen")."""
    by_kind: dict[str, list[str]] = {}
    for sighting_id, kind in kinds.items():
        by_kind.setdefault(kind, []).append(sighting_id)
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), 500):
            session.execute(
                update(Sighting).where(Sighting.sighting_stix_id.in_(ids[start : start + 500])).values(kind=kind)
            )
