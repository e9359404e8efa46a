"""Sharing groups: an owner organization and member organizations that share data among themselves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from herdsec.core.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.identity import audit
from herdsec.identity.logic import Role, clean_name, name_key
from herdsec.identity.models import Organization, SharingGroup, SharingGroupMember
from herdsec.identity.principal import Principal
from herdsec.identity.schemas import OrgRef, SharingGroupIn, SharingGroupOut


def _out(group: SharingGroup) -> SharingGroupOut:
    return SharingGroupOut(
        id=group.id,
        uuid=group.uuid,
        name=group.name,
        description=group.description,
        owner=OrgRef.model_validate(group.owner),
        members=[OrgRef.model_validate(m.organization) for m in group.members],
        created_at=group.created_at,
    )


def _load(session: Session, group_id: int) -> SharingGroup:
    group = session.scalar(
        select(SharingGroup)
        .where(SharingGroup.id == group_id)
        .options(selectinload(SharingGroup.members).selectinload(SharingGroupMember.organization))
    )
    if group is None:
        raise NotFound(N_("no sharing group with id %(id)s"), where="sharing_group", id=group_id)
    return group


def _visible(actor: Principal, group: SharingGroup) -> bool:
    return actor.is_coordinator or group.id in actor.group_ids or group.owner_org_id == actor.org_id


def _check_owner_admin(actor: Principal, group: SharingGroup) -> None:
    if actor.is_coordinator:
        return
    if group.owner_org_id != actor.org_id:
        raise PermissionDenied(N_("only the owner organization may manage a sharing group"))
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied(N_("this needs the admin role in your organization"))


def _org(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise InvalidInput(N_("no organization with id %(id)s"), where="organization_id", id=org_id)
    return org


def create_group(session: Session, actor: Principal, data: SharingGroupIn) -> SharingGroupOut:
    """An organization admin creates a group owned by their organization (which is always a member)."""
    if not actor.has_role(Role.ADMIN) or actor.org_id == 0:
        raise PermissionDenied(N_("this needs the admin role in your organization"))
    name = clean_name(data.name)
    clash = session.scalar(select(SharingGroup).where(SharingGroup.name_key == name_key(name)))
    if clash is not None:
        raise Conflict(N_("a sharing group named %(name)r already exists"), where="name", name=clash.name)
    group = SharingGroup(name=name, name_key=name_key(name), description=data.description, owner_org_id=actor.org_id)
    session.add(group)
    session.flush()
    for org_id in dict.fromkeys([actor.org_id, *data.member_org_ids]):
        group.members.append(SharingGroupMember(organization=_org(session, org_id)))
    session.flush()
    audit.record(
        session,
        actor,
        "group.create",
        "sharing_group",
        group.id,
        target_org_id=actor.org_id,
        name=name,
        members=sorted(set(data.member_org_ids) | {actor.org_id}),
    )
    return _out(_load(session, group.id))


def list_groups(session: Session, actor: Principal) -> list[SharingGroupOut]:
    """The groups the actor's organization belongs to (all groups for a coordinator)."""
    query = (
        select(SharingGroup)
        .order_by(SharingGroup.name_key)
        .options(selectinload(SharingGroup.members).selectinload(SharingGroupMember.organization))
    )
    if not actor.is_coordinator:
        query = query.where(SharingGroup.id.in_(sorted(actor.group_ids)) | (SharingGroup.owner_org_id == actor.org_id))
    return [_out(g) for g in session.scalars(query)]


def _managed(session: Session, actor: Principal, group_id: int) -> SharingGroup:
    """A group the actor may change: outsiders are told it does not exist, members that they may not."""
    group = _load(session, group_id)
    if not _visible(actor, group):
        raise NotFound(N_("no sharing group with id %(id)s"), where="sharing_group", id=group_id)
    _check_owner_admin(actor, group)
    return group


def get_group(session: Session, actor: Principal, group_id: int) -> SharingGroupOut:
    group = _load(session, group_id)
    if not _visible(actor, group):
        raise NotFound(N_("no sharing group with id %(id)s"), where="sharing_group", id=group_id)
    return _out(group)


def add_member(session: Session, actor: Principal, group_id: int, org_id: int) -> SharingGroupOut:
    group = _managed(session, actor, group_id)
    org = _org(session, org_id)
    if any(m.organization_id == org_id for m in group.members):
        raise Conflict(N_("%(name)s is already a member of this group"), where="organization_id", name=org.name)
    group.members.append(SharingGroupMember(organization=org))
    session.flush()
    audit.record(
        session,
        actor,
        "group.member.add",
        "sharing_group",
        group.id,
        target_org_id=group.owner_org_id,
        organization_id=org_id,
    )
    return _out(_load(session, group.id))


def remove_member(session: Session, actor: Principal, group_id: int, org_id: int) -> SharingGroupOut:
    group = _managed(session, actor, group_id)
    if org_id == group.owner_org_id:
        raise Conflict(N_("the owner organization cannot leave its own group"), where="organization_id")
    member = next((m for m in group.members if m.organization_id == org_id), None)
    if member is None:
        raise NotFound(N_("organization %(id)s is not a member of this group"), where="organization_id", id=org_id)
    group.members.remove(member)
    session.flush()
    audit.record(
        session,
        actor,
        "group.member.remove",
        "sharing_group",
        group.id,
        target_org_id=group.owner_org_id,
        organization_id=org_id,
    )
    return _out(_load(session, group.id))
