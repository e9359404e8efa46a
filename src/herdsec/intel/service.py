"""Use-cases of the intel module (what adapters call): ingest, lookup, object reads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, NotFound
from herdsec.identity import Principal
from herdsec.intel.access import visible_objects
from herdsec.intel.indicators import object_for
from herdsec.intel.ingest import ingest_bundle, ingest_new, ingest_objects
from herdsec.intel.lookup import lookup, parse_query
from herdsec.intel.models import StixObject
from herdsec.intel.schemas import IngestStatus
from herdsec.intel.sightings import record as record_sighting
from herdsec.ioc.types import Value

__all__ = [
    "get_object",
    "ingest_bundle",
    "ingest_objects",
    "lookup",
    "parse_query",
    "record_sighting",
    "share_values",
]


def share_values(
    session: Session,
    actor: Principal,
    values: list[Value],
    *,
    tlp: str | None = None,
    distribution: str | None = None,
    source: str = "values",
) -> IngestStatus:
    """Share plain values as indicators. Ids derive from (organization, type, value), so sharing the same value
    again is a no-op (the indicator already stored is kept as it is). Malformed values are skipped."""
    org = identity.get_org(session, actor.org_id)
    now = utcnow()
    objects = [o for v in values if v.problem is None and (o := object_for(v, org.uuid, now)) is not None]
    return ingest_new(session, actor, objects, tlp=tlp, distribution=distribution, source=source)


def get_object(session: Session, actor: Principal, stix_id: str) -> str:
    """The current version of ``stix_id`` as stored JSON, if ``actor`` may see it (else: not found)."""
    data = session.scalar(
        select(StixObject.data).where(
            StixObject.stix_id == stix_id, StixObject.current.is_(True), visible_objects(identity.viewer_for(actor))
        )
    )
    if data is None:
        raise NotFound(N_("no object %(id)s"), where="id", id=stix_id[:120])
    return data
