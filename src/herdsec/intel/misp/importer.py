"""Import MISP events into the store: converted to STIX (``convert``) and stored through the one ingest path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.bulk import page_cache_for
from herdsec.core.errors import N_, PermissionDenied
from herdsec.identity import Principal, Role
from herdsec.identity.logic import name_key
from herdsec.intel.ingest import Audience, ingest_items, ingest_prepared, items_context
from herdsec.intel.misp import parallel as child
from herdsec.intel.misp.convert import EventConverter
from herdsec.intel.misp.job import Groups, Job, Outcome, audience_of
from herdsec.intel.misp.reader import STREAM_MIN_BYTES, EventDocument, read_events
from herdsec.intel.misp.schemas import MispEventStatus, MispImportStatus, MispProblem
from herdsec.intel.misp.vocab import BadValue, Reach
from herdsec.intel.models import ObjectTag, Sighting
from herdsec.intel.prepare import Built, Prepared, Refused, remaining
from herdsec.intel.schemas import IngestStatus

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
    parallel: bool | None = None,
) -> MispImportStatus:
    """Store the MISP events of a JSON document as ``actor``'s organization.

    ``tlp`` applies to events without a ``tlp:*`` tag (default amber). ``distribution``, when given, caps how far
    the events may go (they keep their own distribution when it is narrower); without it each event's own MISP
    distribution applies (community when it has none). ``trust_built=False`` sends every object through the general
    per-object checks and pattern parsing, as a bundle's objects are (the reference the tests hold the converter's
    fast path to). ``parallel``: convert and prepare in a second process while this one writes (None: when the
    document is large enough for it to pay, see :func:`herdsec.intel.misp.parallel.worth_it`). Like the import in
    this process, it writes into ``session`` as it goes: on an error the caller's rollback leaves nothing of it."""
    if not actor.has_role(Role.ANALYST) or actor.org_id == 0:
        raise PermissionDenied(N_("sharing needs the analyst or admin role in a member organization"))
    job = Job(
        org_uuid=identity.get_org(session, actor.org_id).uuid,
        groups=_groups(session, actor),
        cap=_cap(actor, distribution),
        stream_over=stream_over,
        trust_built=trust_built,
    )
    status = MispImportStatus()
    # In one process, a page cache sized to the document keeps the indexes' pages in memory while the import writes
    # (each is then written once, at the commit). With a second process converting, the writer waits for it anyway:
    # pages written as the (default) cache fills make the commit, which nothing overlaps, shorter.
    cache: int | None = None
    if parallel or (parallel is None and child.worth_it(stream)):
        events = import_in_parallel(session, actor, stream, job, tlp=tlp, source=source)
    else:
        cache = remaining(stream)
        events = _import_here(session, actor, stream, job, tlp=tlp, source=source)
    with page_cache_for(session, cache):
        for event in events:
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


def _groups(session: Session, actor: Principal) -> Groups:
    """Hub sharing groups the actor's organization belongs to, matched by uuid, else by name."""
    groups = [g for g in identity.list_groups(session, actor) if g.id in actor.group_ids]
    return Groups({g.uuid.lower(): g.id for g in groups}, {name_key(g.name): g.id for g in groups})


def _import_here(
    session: Session, actor: Principal, stream: IO[bytes], job: Job, *, tlp: str | None, source: str
) -> Iterator[MispEventStatus]:
    for document in read_events(stream, stream_over=job.stream_over):
        converter = job.converter()
        places: list[tuple[str, str | None]] = []
        items = _converted(converter, document, job.trust_built, places)
        try:
            ingested = ingest_items(session, actor, items, tlp=tlp, source=source)
        except BadValue as exc:
            uuid = document.header.get("uuid")
            yield refused_event(uuid if isinstance(uuid, str) else None, converter.info, str(exc))
            continue
        yield event_status(session, Outcome.of(converter), ingested, places)


def import_in_parallel(
    session: Session, actor: Principal, stream: IO[bytes], job: Job, *, tlp: str | None, source: str
) -> Iterator[MispEventStatus]:
    """As :func:`_import_here`, with the reading, conversion and preparation in a second process (``parallel``)."""
    # The writer checks the values against the warninglists: it has time to spare while the child converts.
    context = replace(items_context(session, actor, tlp=tlp), match_lists=not child.WRITER_MATCHES)
    with closing(child.messages(stream, job, context)) as messages:  # the child stops if the writing fails
        for first in messages:
            if first[0] == "idle":
                continue  # nothing of this event has come yet
            if first[0] == "refused":
                yield refused_event(*first[1:])
                continue
            places: list[tuple[str, str | None]] = []
            ending: list[Outcome] = []
            items = _arrived(first, messages, places, ending)
            ingested = ingest_prepared(
                session, actor, items, tlp=tlp, source=source, batch=child.FLUSH_ITEMS, prepared_with=context
            )
            yield event_status(session, ending[0], ingested, places)


def _converted(
    converter: EventConverter, document: EventDocument, trust_built: bool, places: list[tuple[str, str | None]]
) -> Iterator[tuple[dict[str, Any], Audience, Built | None]]:
    """The event's objects for ``ingest_items``; their places in the event are added to ``places``."""
    audiences: dict[Reach, Audience] = {}  # one per reach: the ingest groups its batches by audience
    for item in converter.convert(document.header, document.attributes, document.objects):
        places.append((item.where, item.uuid))
        audience = audiences.get(item.reach)
        if audience is None:
            audience = audiences[item.reach] = audience_of(item.reach)
        yield item.obj, audience, item.built if trust_built else None


def _arrived(
    message: tuple[Any, ...],
    messages: Iterator[tuple[Any, ...]],
    places: list[tuple[str, str | None]],
    ending: list[Outcome],
) -> Iterator[tuple[Audience, Prepared | Refused] | None]:
    """One event's prepared items from the child's messages, from ``message`` to the event's end (its outcome is
    added to ``ending``, the items' places to ``places``)."""
    audiences: list[Audience] = []
    while message[0] in ("items", "idle"):
        if message[0] == "idle":
            yield None  # nothing waiting from the child: write what is pending
        else:
            _kind, reaches, kinds, rows, where = message
            audiences.extend(reaches)
            places.extend(where)
            for number, row in zip(kinds, rows, strict=True):
                yield audiences[number], row
        message = next(messages, ("end",))
    if message[0] != "event":
        raise RuntimeError(f"the MISP reader process ended an event with {message[0]!r}")
    ending.append(message[1])


def refused_event(uuid: str | None, info: str | None, reason: str) -> MispEventStatus:
    """The status of an event refused as a whole (its own uuid is not one, say)."""
    return MispEventStatus(
        uuid=uuid,
        info=info,
        total_count=1,
        failure_count=1,
        failures=[MispProblem(where="Event", uuid=uuid, reason=reason)],
    )


def event_status(
    session: Session, outcome: Outcome, ingested: IngestStatus, places: list[tuple[str, str | None]]
) -> MispEventStatus:
    """What became of an event once its objects are stored: the report remembered for export, sighting kinds, and
    every refusal named by its place in the event."""
    failures = [
        MispProblem(where=places[f.index][0], uuid=places[f.index][1], reason=f.reason) for f in ingested.failures
    ]
    refused_report = any(f.where == "Event" for f in failures)
    if outcome.report_id and not refused_report:
        _remember(session, outcome.report_id, outcome.event_uuid or "")
    _sighting_kinds(session, outcome.sighting_kinds)
    problems = outcome.failures + failures
    return MispEventStatus(
        uuid=outcome.event_uuid,
        info=outcome.info,
        report_id=None if refused_report else outcome.report_id,
        attribute_count=outcome.attribute_count,
        total_count=ingested.total_count + len(outcome.failures),
        success_count=ingested.success_count,
        stored_count=ingested.stored_count,
        failure_count=ingested.failure_count + len(outcome.failures),
        failures=problems[:MAX_PROBLEMS_LISTED],
        notices=outcome.notices[:MAX_PROBLEMS_LISTED],
    )


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
