"""Search the store by type, label, ATT&CK technique, sharing organization, time window, TLP and score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.pagination import Page, check_limit, decode_cursor, encode_cursor
from herdsec.identity import Principal
from herdsec.identity.visibility import Tlp
from herdsec.intel import sightings
from herdsec.intel.access import visible_objects
from herdsec.intel.models import ObjectTag, Observable, StixObject
from herdsec.intel.stix import format_timestamp


@dataclass(frozen=True)
class Filters:
    type: str | None = None
    label: str | None = None
    technique: str | None = None
    org_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    tlp: str | None = None
    min_score: float | None = None


class ObjectSummary(BaseModel):
    id: str
    type: str
    name: str | None
    tlp: str
    creator: str | None
    date_added: str
    modified: str
    score: float | None = Field(None, description="Decay score now (indicators).")


def search(
    session: Session, actor: Principal, filters: Filters, *, limit: int = 50, cursor: str | None = None
) -> Page[ObjectSummary]:
    """Visible current objects, newest first, keyset-paged. ``min_score`` applies to indicators (objects without
    a score are left out when it is given), within each page: a page may hold fewer items than ``limit``."""
    limit = check_limit(limit)
    query = (
        select(StixObject)
        .where(StixObject.current.is_(True), visible_objects(identity.viewer_for(actor)))
        .order_by(StixObject.id.desc())
        .limit(limit + 1)
    )
    if filters.type:
        query = query.where(StixObject.type == filters.type)
    if filters.label:
        query = query.where(
            StixObject.stix_id.in_(
                select(ObjectTag.stix_id).where(
                    ObjectTag.kind == "label", ObjectTag.value == filters.label.strip().lower()
                )
            )
        )
    if filters.technique:
        query = query.where(
            StixObject.stix_id.in_(
                select(ObjectTag.stix_id).where(
                    ObjectTag.kind == "technique", ObjectTag.value == filters.technique.strip().upper()
                )
            )
        )
    if filters.org_id is not None:
        query = query.where(StixObject.creator_org_id == filters.org_id)
    if filters.since:
        query = query.where(StixObject.date_added >= filters.since)
    if filters.until:
        query = query.where(StixObject.date_added < filters.until)
    if filters.tlp:
        query = query.where(StixObject.tlp == int(Tlp.parse(filters.tlp)))
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(StixObject.id < before)
    rows = list(session.scalars(query))
    page, more = rows[:limit], len(rows) > limit
    names = {i: o.name for i, o in identity.get_orgs(session, (o.creator_org_id for o in page)).items()}
    scores = _scores(session, actor, page)
    items = [
        ObjectSummary(
            id=o.stix_id,
            type=o.type,
            name=o.name,
            tlp=Tlp(o.tlp).label,
            creator=names.get(o.creator_org_id),
            date_added=format_timestamp(o.date_added),
            modified=format_timestamp(o.modified),
            score=scores.get(o.stix_id),
        )
        for o in page
    ]
    if filters.min_score is not None:
        items = [i for i in items if i.score is not None and i.score >= filters.min_score]
    return Page[ObjectSummary](items=items, next=encode_cursor(page[-1].id) if more else None)


def _scores(session: Session, actor: Principal, objects: list[StixObject], *, bulk: bool = False) -> dict[str, float]:
    indicators = [o for o in objects if o.type == "indicator"]
    if not indicators:
        return {}
    value_types = dict(
        session.execute(
            select(Observable.object_id, Observable.type).where(Observable.object_id.in_([o.id for o in indicators]))
        ).all()
    )
    inputs = sightings.decay_inputs(session, actor, [o.stix_id for o in indicators], bulk=bulk)
    now = utcnow()
    return {
        obj.stix_id: sightings.decay_of(
            obj.data, obj.modified, value_types.get(obj.id), inputs.get(obj.stix_id), now
        ).score
        for obj in indicators
    }
