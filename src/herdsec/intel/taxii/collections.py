"""The collections a member sees over TAXII: one per audience it may read or write.

* ``community``: what members shared with the whole hub (distribution community, connected or all); writes are
  distributed to the community.
* one per sharing group the organization is in: what was shared with that group; writes go to the group.
* the organization's own: what it kept to itself (distribution organization); writes stay in the organization.
* ``MITRE ATT&CK`` (read-only): the public reference data.
* ``everything`` (read-only): every object the member may see, whatever its audience.

A collection narrows what is read to its audience; the visibility filter always applies on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.errors import N_, NotFound
from herdsec.identity import Principal, Role
from herdsec.identity.visibility import Distribution
from herdsec.intel.models import StixObject
from herdsec.intel.reference import reference_org_ids
from herdsec.intel.taxii.logic import collection_id

_WIDE = [Distribution.COMMUNITY.value, Distribution.CONNECTED.value, Distribution.ALL.value]


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    title: str
    description: str
    audience: str  # community, group:<id>, organization, reference, everything
    where: ColumnElement[bool]
    distribution: str | None  # what a write is distributed to; None: read-only
    can_write: bool

    def resource(self) -> dict[str, object]:
        """The TAXII collection resource (section 5.2.1)."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": True,
            "can_write": self.can_write,
            "media_types": ["application/stix+json;version=2.1"],
        }


def list_collections(session: Session, actor: Principal, *, wanted: str | None = None) -> list[Collection]:
    """The member's collections, in a stable order (with ``wanted``: only that one, found without listing groups
    when it is not a group's)."""
    writer = actor.has_role(Role.ANALYST) and actor.org_id != 0
    reference = sorted(reference_org_ids(session))
    not_reference = StixObject.creator_org_id.not_in(reference) if reference else true()
    found = [
        Collection(
            collection_id("community"),
            "Community",
            "Intelligence members shared with the whole hub (distribution community, connected or all).",
            "community",
            and_(StixObject.distribution.in_(_WIDE), not_reference),
            Distribution.COMMUNITY.value,
            writer,
        )
    ]
    statics = {collection_id(name) for name in ("community", "reference", "everything")}
    own = collection_id(f"org:{identity.get_org(session, actor.org_id).uuid}") if actor.org_id else None
    groups = [] if wanted in statics or (wanted is not None and wanted == own) else identity.list_groups(session, actor)
    for group in groups:
        if group.id not in actor.group_ids:
            continue
        found.append(
            Collection(
                collection_id(f"group:{group.uuid}"),
                f"Sharing group: {group.name}",
                f"Intelligence shared with the sharing group {group.name} only.",
                f"group:{group.id}",
                and_(
                    StixObject.distribution == Distribution.SHARING_GROUP.value,
                    StixObject.sharing_group_id == group.id,
                ),
                f"sharing-group:{group.id}",
                writer,
            )
        )
    if actor.org_id:
        org = identity.get_org(session, actor.org_id)
        found.append(
            Collection(
                collection_id(f"org:{org.uuid}"),
                f"Organization: {org.name}",
                "What your organization keeps to itself (distribution organization).",
                "organization",
                and_(
                    StixObject.creator_org_id == actor.org_id,
                    StixObject.distribution == Distribution.ORGANIZATION.value,
                ),
                Distribution.ORGANIZATION.value,
                writer,
            )
        )
    found.append(
        Collection(
            collection_id("reference"),
            "MITRE ATT&CK",
            "Public reference data: ATT&CK techniques, tactics and groups (read-only).",
            "reference",
            StixObject.creator_org_id.in_(reference) if reference else StixObject.id < 0,
            None,
            False,
        )
    )
    found.append(
        Collection(
            collection_id("everything"),
            "Everything you can see",
            "Every object your organization may see, whatever its audience (read-only).",
            "everything",
            true(),
            None,
            False,
        )
    )
    return found


def find_collection(session: Session, actor: Principal, wanted: str) -> Collection:
    """One of the member's collections; any other id is not found (never "forbidden")."""
    for found in list_collections(session, actor, wanted=wanted):
        if found.id == wanted:
            return found
    raise NotFound(N_("no collection %(id)s"), where="collection", id=wanted[:60])
