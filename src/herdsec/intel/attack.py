"""MITRE ATT&CK as reference data in the store: techniques, tactics and groups (Enterprise and ICS, shipped in
the package), so that indicators and reports can cite techniques and pages can show their names."""

from __future__ import annotations

import gzip
from importlib import resources
from typing import IO, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import NotFound
from herdsec.identity.schemas import OrganizationIn
from herdsec.intel.ingest import ingest_bundle
from herdsec.intel.models import ObjectTag, StixObject
from herdsec.intel.reference import REFERENCE_ORG, reference_org_ids
from herdsec.intel.schemas import IngestStatus

__all__ = ["REFERENCE_ORG", "load", "technique_names", "techniques_of"]


def load(session: Session) -> IngestStatus:
    """Store the shipped ATT&CK objects (TLP:CLEAR, for everyone) under a reference organization; idempotent."""
    try:
        org = identity.find_org(session, REFERENCE_ORG)
    except NotFound:
        org = identity.create_org(
            session,
            identity.system_principal("attack"),
            OrganizationIn(
                name=REFERENCE_ORG,
                kind="vendor",
                sector="Reference data",
                country="US",
                description="MITRE ATT&CK techniques, tactics and groups, loaded as reference data.",
            ),
        )
    actor = identity.org_principal(session, org.id, "attack loader")
    data = resources.files("herdsec.intel").joinpath("data/attack.json.gz")
    with data.open("rb") as raw, gzip.open(raw, "rb") as stream:
        return ingest_bundle(
            session, actor, cast(IO[bytes], stream), tlp="clear", distribution="all", source="attack", parallel=False
        )


def technique_names(session: Session, technique_ids: list[str]) -> dict[str, str]:
    """ATT&CK id → name (``T1566`` → ``Phishing``), from the public reference data only (a member's private
    attack-pattern never renames a technique on other members' pages)."""
    reference = reference_org_ids(session)
    if not technique_ids or not reference:
        return {}
    rows = session.execute(
        select(ObjectTag.value, StixObject.name)
        .join(StixObject, StixObject.stix_id == ObjectTag.stix_id)
        .where(
            ObjectTag.kind == "technique",
            ObjectTag.value.in_(sorted(set(technique_ids))),
            StixObject.type == "attack-pattern",
            StixObject.current.is_(True),
            StixObject.creator_org_id.in_(sorted(reference)),
        )
    ).all()
    return {technique: name or technique for technique, name in rows}


def techniques_of(session: Session, stix_id: str) -> list[str]:
    return sorted(
        session.scalars(select(ObjectTag.value).where(ObjectTag.stix_id == stix_id, ObjectTag.kind == "technique"))
    )
