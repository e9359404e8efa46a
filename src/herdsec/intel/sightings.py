"""Sightings: members report that they saw an indicator again (or that it is a false positive, or expired)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, insert, or_, select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core import events
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput, NotFound, PermissionDenied
from herdsec.identity import Principal, Role
from herdsec.intel import decay
from herdsec.intel.access import visible_objects
from herdsec.intel.extract import value_key
from herdsec.intel.models import Observable, Sighting, StixObject
from herdsec.intel.schemas import SightingIn, SightingRecorded, SightingSummary
from herdsec.intel.stix import parse_timestamp

CLOCK_SKEW = timedelta(hours=1)


def record(session: Session, actor: Principal, data: SightingIn, *, source: str = "api") -> SightingRecorded:
    """Record a sighting on every visible current indicator the report names (by value or by id)."""
    from herdsec.intel.lookup import parse_query

    if not actor.has_role(Role.ANALYST) or actor.org_id == 0:
        raise PermissionDenied(N_("reporting sightings needs the analyst or admin role in a member organization"))
    if (data.value is None) == (data.object_id is None):
        raise InvalidInput(N_("give either a value or an object_id"), where="value")
    now = utcnow()
    last = min(data.last_seen or now, now + CLOCK_SKEW)  # a report from the future cannot refresh for ever
    first = min(data.first_seen or last, last)
    if data.first_seen and data.last_seen and data.first_seen > data.last_seen:
        raise InvalidInput(N_("first_seen is later than last_seen"), where="first_seen")
    visible = visible_objects(identity.viewer_for(actor))
    query = select(StixObject.id, StixObject.stix_id).where(StixObject.current.is_(True), visible)
    if data.object_id is not None:
        query = query.where(StixObject.stix_id == data.object_id)
    else:
        value = parse_query(data.value or "", data.type)
        query = (
            query.join(Observable, Observable.object_id == StixObject.id)
            .where(Observable.type == value.type.value, Observable.value_key == value_key(value.value))
            .distinct()
        )
    targets = session.execute(query).all()
    if not targets:
        raise NotFound(N_("no visible indicator carries this value or id"), where="value")
    session.execute(
        insert(Sighting),
        [
            {
                "object_id": pk,
                "stix_id": sid,
                "org_id": actor.org_id,
                "kind": data.kind,
                "count": data.count,
                "first_seen": first,
                "last_seen": last,
                "created_at": now,
                "source": source,
            }
            for pk, sid in targets
        ],
    )
    events.append(
        session,
        "sighting",
        org_id=actor.org_id,
        stix_id=targets[0][1],
        objects=[sid for _pk, sid in targets],
        kind=data.kind,
        count=data.count,
        first_seen=first.isoformat(),
        last_seen=last.isoformat(),
    )
    identity.audit_record(
        session,
        actor,
        "intel.sighting",
        "object",
        targets[0][1],
        target_org_id=actor.org_id,
        kind=data.kind,
        count=data.count,
        objects=len(targets),
    )
    return SightingRecorded(recorded=len(targets), objects=[sid for _pk, sid in targets])


def from_stix(obj: dict[str, Any], org_id: int, now: datetime) -> dict[str, Any]:
    """The sightings-table row of a STIX ``sighting`` object shared by ``org_id``."""
    from herdsec.intel.stix import parse_timestamp

    last = min(parse_timestamp(obj.get("last_seen")) or parse_timestamp(obj.get("modified")) or now, now + CLOCK_SKEW)
    first = min(parse_timestamp(obj.get("first_seen")) or last, last)
    count = obj.get("count")
    return {
        "stix_id": obj["sighting_of_ref"],
        "org_id": org_id,
        "kind": "sighting",
        "count": count if isinstance(count, int) and count >= 0 else 1,
        "first_seen": first,
        "last_seen": last,
        "created_at": now,
        "sighting_stix_id": obj["id"],
        "source": "stix",
    }


def visible_reports(
    actor: Principal, *, objects: Sequence[ColumnElement[bool]] | None = None, api_reports: bool = True
) -> ColumnElement[bool]:
    """Sighting reports the actor may count: API reports (counts only, names are handled separately; left out when
    ``api_reports`` is false) and STIX sighting objects the actor may see (a sighting shared privately stays
    private). ``objects`` replaces the actor's interactive view of the sighting objects (exports pass their bulk
    view, feeds also the feed's audience)."""
    conditions = list(objects) if objects is not None else [visible_objects(identity.viewer_for(actor))]
    visible = select(StixObject.stix_id).where(StixObject.type == "sighting", StixObject.current.is_(True), *conditions)
    shared = Sighting.sighting_stix_id.in_(visible)
    return or_(Sighting.sighting_stix_id.is_(None), shared) if api_reports else shared


def summaries(session: Session, actor: Principal, objects: dict[str, int]) -> dict[str, SightingSummary]:
    """Sighting summaries of visible objects (``stix_id`` → creator org id), keyed by ``stix_id``."""
    if not objects:
        return {}
    rows = session.execute(
        select(
            Sighting.stix_id, Sighting.org_id, Sighting.kind, Sighting.count, Sighting.first_seen, Sighting.last_seen
        ).where(Sighting.stix_id.in_(sorted(objects)), visible_reports(actor))
    ).all()
    orgs = identity.get_orgs(session, (r.org_id for r in rows))
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.stix_id].append(row)
    result: dict[str, SightingSummary] = {}
    for stix_id, items in grouped.items():
        seen = [r for r in items if r.kind == "sighting"]
        reporters = {r.org_id for r in seen}
        may_name = actor.is_coordinator or objects[stix_id] == actor.org_id
        result[stix_id] = SightingSummary(
            count=sum(r.count for r in seen),
            organizations=len(reporters),
            false_positives=len({r.org_id for r in items if r.kind == "false-positive"}),
            expirations=len({r.org_id for r in items if r.kind == "expiration"}),
            first_seen=min((r.first_seen for r in seen), default=None),
            last_seen=max((r.last_seen for r in seen), default=None),
            by_sector=dict(Counter(orgs[o].sector or "?" for o in reporters if o in orgs)),
            by_province=dict(Counter(orgs[o].province or "?" for o in reporters if o in orgs)),
            reporters=sorted(orgs[o].name for o in reporters if o in orgs) if may_name else None,
        )
    return result


DecayInputs = tuple[datetime | None, int, datetime | None]
"""(newest sighting, organizations reporting a false positive, earliest expiration report)."""


def decay_of(
    data: str | bytes, modified: datetime, value_type: str | None, inputs: DecayInputs | None, now: datetime
) -> decay.Decay:
    """The decay of a stored indicator (its JSON ``data``, ``modified`` time and value type) with its sighting
    reports (:func:`decay_inputs`; None: no report)."""
    parsed = orjson.loads(data)
    newest, false_positives, expired_at = inputs or (None, 0, None)
    return decay.evaluate(
        value_type=value_type,
        confidence=parsed.get("confidence"),
        valid_from=parse_timestamp(parsed.get("valid_from")) or modified,
        valid_until=parse_timestamp(parsed.get("valid_until")),
        last_sighting=newest,
        false_positives=false_positives,
        expired_at=expired_at,
        now=now,
    )


def decay_inputs(
    session: Session,
    actor: Principal,
    stix_ids: list[str],
    *,
    bulk: bool = False,
    max_sighting_id: int | None = None,
) -> dict[str, DecayInputs]:
    """Per object: (newest sighting, organizations reporting a false positive, earliest expiration report).

    ``bulk``: only the reports the actor's bulk view admits (exports, scan sets, webhooks: a TLP:RED sighting object
    must not change what leaves the hub unattended). ``max_sighting_id``: as of that report (an export's state)."""
    out: dict[str, DecayInputs] = {}
    if not stix_ids:
        return out
    objects = [visible_objects(identity.viewer_for(actor, bulk=True))] if bulk else None
    query = select(Sighting.stix_id, Sighting.kind, Sighting.last_seen, Sighting.org_id).where(
        Sighting.stix_id.in_(stix_ids), visible_reports(actor, objects=objects)
    )
    if max_sighting_id is not None:
        query = query.where(Sighting.id <= max_sighting_id)
    doubters: dict[str, set[int]] = defaultdict(set)
    for sid, kind, last, org_id in session.execute(query):
        newest, _fps, expired = out.get(sid, (None, 0, None))
        if kind == "sighting":
            newest = last if newest is None or last > newest else newest
        elif kind == "false-positive":
            doubters[sid].add(org_id)  # one organization doubting it many times counts once
        else:
            expired = last if expired is None or last < expired else expired
        out[sid] = (newest, len(doubters[sid]), expired)
    return out
