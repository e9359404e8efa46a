"""Read models for people: the dashboard, one object with its values, correlations, sightings and versions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import N_, NotFound
from herdsec.identity import Principal
from herdsec.identity.visibility import Tlp
from herdsec.intel import attack, decay, sightings
from herdsec.intel.access import visible_objects
from herdsec.intel.models import Observable, Sighting, StixObject
from herdsec.intel.reference import reference_org_ids
from herdsec.intel.schemas import SightingSummary


@dataclass
class ObjectCard:
    id: str
    type: str
    name: str | None
    tlp: str
    creator: str | None
    date_added: Any
    sightings: int = 0


@dataclass
class Dashboard:
    total: int
    by_type: list[tuple[str, int]]
    by_sector: list[tuple[str, int]]
    by_province: list[tuple[str, int]]
    by_tlp: list[tuple[str, int]]
    latest: list[ObjectCard]
    most_sighted: list[ObjectCard]


@dataclass
class ValueRow:
    type: str
    value: str
    problem: str | None
    warninglists: list[str]
    correlations: list[ObjectCard]
    over_correlating: bool


@dataclass
class ObjectDetail:
    card: ObjectCard
    data: dict[str, Any]
    json: str
    values: list[ValueRow]
    sightings: SightingSummary | None
    versions: list[tuple[Any, bool]] = field(default_factory=list)
    techniques: list[tuple[str, str]] = field(default_factory=list)  # (ATT&CK id, name)
    contents: list[ObjectCard] = field(default_factory=list)  # a report's or grouping's visible objects


def _names(session: Session) -> dict[int, Any]:
    return {o.id: o for o in identity.list_orgs(session)}


def dashboard(session: Session, actor: Principal, *, latest: int = 15) -> Dashboard:
    """What the actor's organization may see, summarised: counts by type, by the sharers' sector and province, by
    TLP; the latest shared objects; the most sighted."""
    visible = visible_objects(identity.viewer_for(actor))
    orgs = _names(session)
    reference = sorted(reference_org_ids(session))
    # What members shared: not the ATT&CK reference data, not marking definitions and identities.
    current = (
        StixObject.current.is_(True),
        visible,
        StixObject.creator_org_id.not_in(reference),
        StixObject.type.not_in(("marking-definition", "identity")),
    )
    by_type = session.execute(
        select(StixObject.type, func.count()).where(*current).group_by(StixObject.type).order_by(func.count().desc())
    ).all()
    by_creator = session.execute(
        select(StixObject.creator_org_id, func.count()).where(*current).group_by(StixObject.creator_org_id)
    ).all()
    by_tlp = session.execute(select(StixObject.tlp, func.count()).where(*current).group_by(StixObject.tlp)).all()
    sectors: Counter[str] = Counter()
    provinces: Counter[str] = Counter()
    for org_id, count in by_creator:
        org = orgs.get(org_id)
        sectors[(org.sector if org else None) or "?"] += count
        provinces[(org.province if org else None) or "?"] += count
    recent = (
        session.execute(
            select(StixObject)
            .where(*current, StixObject.type.not_in(("marking-definition", "identity")))
            .order_by(StixObject.id.desc())
            .limit(latest)
        )
        .scalars()
        .all()
    )
    sighted = session.execute(
        select(StixObject, func.sum(Sighting.count).label("n"))
        .join(Sighting, Sighting.stix_id == StixObject.stix_id)
        .where(*current, Sighting.kind == "sighting", sightings.visible_reports(actor))
        .group_by(StixObject.id)
        .order_by(func.sum(Sighting.count).desc())
        .limit(10)
    ).all()
    return Dashboard(
        total=sum(n for _t, n in by_type),
        by_type=[(t, n) for t, n in by_type],
        by_sector=sectors.most_common(12),
        by_province=provinces.most_common(12),
        by_tlp=[(Tlp(t).label, n) for t, n in sorted(by_tlp)],
        latest=[_card(o, orgs) for o in recent],
        most_sighted=[_card(o, orgs, int(n or 0)) for o, n in sighted],
    )


def _card(obj: StixObject, orgs: dict[int, Any], sighted: int = 0) -> ObjectCard:
    org = orgs.get(obj.creator_org_id)
    return ObjectCard(
        obj.stix_id, obj.type, obj.name, Tlp(obj.tlp).label, org.name if org else None, obj.date_added, sighted
    )


def object_detail(session: Session, actor: Principal, stix_id: str, *, limit: int = 100) -> ObjectDetail:
    """One visible object: its values with their warninglist hits, correlations (other visible objects carrying
    the same value; over-correlating values flagged, not listed), sightings and versions."""
    visible = visible_objects(identity.viewer_for(actor))
    obj = session.scalar(select(StixObject).where(StixObject.stix_id == stix_id, StixObject.current.is_(True), visible))
    if obj is None:
        raise NotFound(N_("no object %(id)s"), where="id", id=stix_id[:120])
    orgs = _names(session)
    values = []
    for observable in session.scalars(select(Observable).where(Observable.object_id == obj.id)):
        others = (
            session.execute(
                select(StixObject)
                .join(Observable, Observable.object_id == StixObject.id)
                .where(
                    Observable.type == observable.type,
                    Observable.value_key == observable.value_key,
                    StixObject.current.is_(True),
                    StixObject.id != obj.id,
                    visible,
                )
                .order_by(StixObject.id.desc())
                .limit(limit + 1)
            )
            .scalars()
            .all()
        )
        values.append(
            ValueRow(
                observable.type,
                observable.value,
                observable.problem,
                observable.warninglists.split(",") if observable.warninglists else [],
                [_card(o, orgs) for o in others[:limit]],
                len(others) > limit,
            )
        )
    versions = session.execute(
        select(StixObject.modified, StixObject.current)
        .where(StixObject.stix_id == stix_id, visible)
        .order_by(StixObject.modified.desc())
    ).all()
    summary = sightings.summaries(session, actor, {obj.stix_id: obj.creator_org_id}).get(obj.stix_id)
    data = orjson.loads(obj.data)
    refs = [r for r in data.get("object_refs", []) if isinstance(r, str)][:500]
    contents = (
        session.scalars(
            select(StixObject).where(StixObject.stix_id.in_(refs), StixObject.current.is_(True), visible)
        ).all()
        if refs
        else []
    )
    cited = attack.techniques_of(session, stix_id)
    names = attack.technique_names(session, cited)
    return ObjectDetail(
        _card(obj, orgs),
        data,
        orjson.dumps(data, option=orjson.OPT_INDENT_2).decode(),
        values,
        summary,
        [(m, c) for m, c in versions],
        [(t, names.get(t, "")) for t in cited],
        [_card(o, orgs) for o in contents],
    )


@dataclass
class ScoreHistory:
    """Decay score of an indicator at evenly spaced times, from its start to the end of its lifetime."""

    points: list[tuple[datetime, float]]
    threshold: float
    now_index: int
    score: float  # now
    expired: bool


def score_history(
    session: Session,
    actor: Principal,
    stix_id: str,
    value_type: str | None,
    data: dict[str, Any],
    fallback_start: datetime,
    steps: int = 48,
) -> ScoreHistory:
    """Past and projected score: each point uses only the sightings reported before it."""
    from herdsec.core.clock import utcnow
    from herdsec.intel.stix import parse_timestamp

    reports = session.execute(
        select(Sighting.kind, Sighting.last_seen, Sighting.org_id)
        .where(Sighting.stix_id == stix_id, sightings.visible_reports(actor))
        .order_by(Sighting.last_seen)
    ).all()
    start = parse_timestamp(data.get("valid_from")) or fallback_start
    model = decay.model_for(value_type)
    now = utcnow()
    newest = max([start] + [seen for kind, seen, _org in reports if kind == "sighting"])
    end = max(now, newest) + timedelta(days=model.lifetime_days)
    span = (end - start) / steps

    def at(moment: datetime) -> decay.Decay:
        seen = [s for k, s, _o in reports if k == "sighting" and s <= moment]
        return decay.evaluate(
            value_type=value_type,
            confidence=data.get("confidence"),
            valid_from=start,
            valid_until=parse_timestamp(data.get("valid_until")),
            last_sighting=max(seen) if seen else None,
            false_positives=len({o for k, s, o in reports if k == "false-positive" and s <= moment}),
            expired_at=min((s for k, s, _o in reports if k == "expiration"), default=None),
            now=moment,
        )

    points = [(start + span * i, at(start + span * i).score) for i in range(steps + 1)]
    now_index = min(int((now - start) / span), steps) if span.total_seconds() > 0 else 0
    current = at(now)
    return ScoreHistory(points, model.threshold, now_index, current.score, current.expired)
