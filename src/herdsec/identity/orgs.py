"""Use-cases for member organizations."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.errors import N_, Conflict, NotFound, PermissionDenied
from herdsec.identity import audit
from herdsec.identity.logic import OrgKind, SizeBand, check_may_manage_org, clean_name, name_key, parse_choice
from herdsec.identity.models import Organization
from herdsec.identity.principal import Principal
from herdsec.identity.schemas import OrganizationIn, OrganizationOut


def _clean_optional(value: str | None, field: str) -> str | None:
    return clean_name(value, field) if value and value.strip() else None


def create_org(session: Session, actor: Principal, data: OrganizationIn) -> OrganizationOut:
    """Register a member organization (coordinators only). Names are unique, ignoring case and spacing."""
    if not actor.is_coordinator:
        raise PermissionDenied(N_("only a coordinator may register organizations"))
    name = clean_name(data.name)
    key = name_key(name)
    clash = session.scalar(select(Organization).where(Organization.name_key == key))
    if clash is not None:
        raise Conflict(
            N_("an organization named %(name)r already exists (id %(id)d)"), where="name", name=clash.name, id=clash.id
        )
    org = Organization(
        name=name,
        name_key=key,
        kind=parse_choice(OrgKind, data.kind, "kind").value,
        sector=_clean_optional(data.sector, "sector"),
        size_band=parse_choice(SizeBand, data.size_band, "size_band").value if data.size_band else None,
        province=_clean_optional(data.province, "province"),
        country=data.country.upper(),
        description=data.description,
    )
    session.add(org)
    session.flush()
    audit.record(session, actor, "org.create", "organization", org.id, target_org_id=org.id, name=name, kind=org.kind)
    return OrganizationOut.model_validate(org)


def list_orgs(session: Session, *, kind: str | None = None) -> list[OrganizationOut]:
    """Every member organization (the member directory is visible to all members)."""
    query = select(Organization).order_by(Organization.name_key)
    if kind:
        query = query.where(Organization.kind == parse_choice(OrgKind, kind, "kind").value)
    return [OrganizationOut.model_validate(o) for o in session.scalars(query)]


def get_orgs(session: Session, org_ids: Iterable[int]) -> dict[int, OrganizationOut]:
    """The organizations with these ids (one query; unknown ids are left out)."""
    wanted = sorted(set(org_ids))
    if not wanted:
        return {}
    rows = session.scalars(select(Organization).where(Organization.id.in_(wanted)))
    return {o.id: OrganizationOut.model_validate(o) for o in rows}


def get_org(session: Session, org_id: int) -> OrganizationOut:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(N_("no organization with id %(id)s"), where="organization", id=org_id)
    return OrganizationOut.model_validate(org)


def find_org(session: Session, name_or_id: str) -> OrganizationOut:
    """Look an organization up by id or by name (case-insensitive)."""
    text = name_or_id.strip()
    if text.isdigit():
        return get_org(session, int(text))
    org = session.scalar(select(Organization).where(Organization.name_key == name_key(text)))
    if org is None:
        raise NotFound(N_("no organization named %(name)r"), where="organization", name=text)
    return OrganizationOut.model_validate(org)


def update_org(session: Session, actor: Principal, org_id: int, data: OrganizationIn) -> OrganizationOut:
    """Change an organization's profile: its own admins or a coordinator; the kind only by a coordinator."""
    check_may_manage_org(actor.org_id, actor.role, actor.is_coordinator, org_id)
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(N_("no organization with id %(id)s"), where="organization", id=org_id)
    name = clean_name(data.name)
    key = name_key(name)
    clash = session.scalar(select(Organization).where(Organization.name_key == key, Organization.id != org_id))
    if clash is not None:
        raise Conflict(
            N_("an organization named %(name)r already exists (id %(id)d)"), where="name", name=clash.name, id=clash.id
        )
    kind = parse_choice(OrgKind, data.kind, "kind").value
    if kind != org.kind and not actor.is_coordinator:
        raise PermissionDenied(N_("only a coordinator may change an organization's kind"))
    before = OrganizationOut.model_validate(org).model_dump(mode="json", exclude={"created_at"})
    org.name, org.name_key, org.kind = name, key, kind
    org.sector = _clean_optional(data.sector, "sector")
    org.size_band = parse_choice(SizeBand, data.size_band, "size_band").value if data.size_band else None
    org.province = _clean_optional(data.province, "province")
    org.country = data.country.upper()
    org.description = data.description
    session.flush()
    after = OrganizationOut.model_validate(org).model_dump(mode="json", exclude={"created_at"})
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    audit.record(session, actor, "org.update", "organization", org.id, target_org_id=org.id, changed=changed)
    return OrganizationOut.model_validate(org)
