"""Lookup: every visible object that carries a value (an index lookup, never a scan)."""

from __future__ import annotations

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput
from herdsec.identity import Principal
from herdsec.identity.visibility import Distribution, Tlp
from herdsec.intel import decay, sightings
from herdsec.intel.access import visible_objects
from herdsec.intel.extract import value_key
from herdsec.intel.models import Observable, StixObject
from herdsec.intel.schemas import LookupMatch, LookupResult
from herdsec.intel.stix import format_timestamp, parse_timestamp
from herdsec.ioc.normalise import detect, normalise
from herdsec.ioc.refang import refang
from herdsec.ioc.types import IocType, Value

MAX_QUERY = 4096


def parse_query(raw: str, type_hint: str | None = None) -> Value:
    """The value a person typed or pasted (defanged forms accepted), normalised for the index."""
    literal_types = {"user-agent", "mutex", "filename", "regkey"}  # "(at)" or "[.]" may be literally there
    text = raw.strip() if type_hint in literal_types else refang(raw.strip())
    if not text or len(text) > MAX_QUERY:
        raise InvalidInput(N_("give a value of 1 to %(max)d characters"), where="value", max=MAX_QUERY)
    if type_hint:
        try:
            kind = IocType(type_hint)
        except ValueError:
            raise InvalidInput(N_("unknown value type %(type)r"), where="type", type=type_hint) from None
        return normalise(kind, text)
    found = detect(text)
    if found is None:
        raise InvalidInput(
            N_("%(value)r is not a value the hub indexes (IP, domain, URL, e-mail, hash, CVE, ...)"),
            where="value",
            value=text[:80],
        )
    return found


def lookup(
    session: Session, actor: Principal, raw: str, *, type_hint: str | None = None, limit: int = 100
) -> LookupResult:
    """Objects that carry ``raw`` and that ``actor`` may see, newest first; flags over-correlating values."""
    value = parse_query(raw, type_hint)
    viewer = identity.viewer_for(actor)
    rows = session.execute(
        select(Observable, StixObject)
        .join(StixObject, StixObject.id == Observable.object_id)
        .where(
            Observable.type.in_(_same_shape(value.type)),
            Observable.value_key == value_key(value.value),
            StixObject.current.is_(True),
            visible_objects(viewer),
        )
        .order_by(StixObject.id.desc())
        .limit(limit + 1)
    ).all()
    names = _org_names(session, {obj.creator_org_id for _obs, obj in rows})
    matches = [
        LookupMatch(
            id=obj.stix_id,
            type=obj.type,
            name=obj.name,
            value_type=obs.type,
            value=obs.value,
            tlp=Tlp(obj.tlp).label,
            distribution=obj.distribution
            if obj.distribution != Distribution.SHARING_GROUP
            else f"sharing-group:{obj.sharing_group_id}",
            creator=names.get(obj.creator_org_id),
            modified=format_timestamp(obj.modified),
            date_added=format_timestamp(obj.date_added),
            revoked=obj.revoked,
            warninglists=obs.warninglists.split(",") if obs.warninglists else [],
            problem=obs.problem,
        )
        for obs, obj in rows[:limit]
    ]
    _add_scores_and_sightings(session, actor, matches, {obj.stix_id: obj for _obs, obj in rows[:limit]})
    return LookupResult(
        query=raw, value_type=value.type.value, value=value.value, matches=matches, over_correlating=len(rows) > limit
    )


def _add_scores_and_sightings(
    session: Session, actor: Principal, matches: list[LookupMatch], objects: dict[str, StixObject]
) -> None:
    creators = {sid: obj.creator_org_id for sid, obj in objects.items()}
    summaries = sightings.summaries(session, actor, creators)
    inputs = sightings.decay_inputs(session, actor, sorted(objects))
    now = utcnow()
    for match in matches:
        match.sightings = summaries.get(match.id)
        if match.type != "indicator":
            continue
        data = orjson.loads(objects[match.id].data)
        newest, fps, expired_at = inputs.get(match.id, (None, 0, None))
        result = decay.evaluate(
            value_type=match.value_type,
            confidence=data.get("confidence"),
            valid_from=parse_timestamp(data.get("valid_from")) or objects[match.id].modified,
            valid_until=parse_timestamp(data.get("valid_until")),
            last_sighting=newest,
            false_positives=fps,
            expired_at=expired_at,
            now=now,
        )
        match.score, match.expired = result.score, result.expired


def _same_shape(kind: IocType) -> list[str]:
    """Types a bare value could be: 32 hex digits are an MD5 or a JA3 fingerprint."""
    if kind in (IocType.MD5, IocType.JA3):
        return [IocType.MD5.value, IocType.JA3.value]
    return [kind.value]


def _org_names(session: Session, org_ids: set[int]) -> dict[int, str]:
    return {org_id: org.name for org_id, org in identity.get_orgs(session, org_ids).items()}
