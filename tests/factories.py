"""Factories that build real rows through the services (never by inserting into tables directly)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.identity import Principal
from herdsec.identity.auth import group_ids_of
from herdsec.identity.schemas import OrganizationIn, OrganizationOut, SharingGroupIn, UserIn, UserOut, UserPatch

PASSWORD = "correct horse battery"
_seq = itertools.count(1)
OPERATOR = identity.system_principal("tests")


def make_org(session: Session, name: str | None = None, kind: str = "sme", **fields: str) -> OrganizationOut:
    n = next(_seq)
    return identity.create_org(
        session,
        OPERATOR,
        OrganizationIn(name=name or f"Công ty Thử nghiệm {n}", kind=kind, **fields),  # type: ignore[arg-type]
    )


def make_user(
    session: Session, org: OrganizationOut, role: str = "admin", *, coordinator: bool = False, email: str | None = None
) -> UserOut:
    n = next(_seq)
    user = identity.create_user(
        session,
        OPERATOR,
        org.id,
        UserIn(email=email or f"user{n}@org{org.id}.example", name=f"Người dùng {n}", role=role, password=PASSWORD),
    )
    if coordinator:
        user = identity.update_user(session, OPERATOR, user.id, UserPatch(is_coordinator=True))
    return user


def principal_of(session: Session, user: UserOut) -> Principal:
    org = identity.get_org(session, user.organization_id)
    return Principal(
        org_id=org.id,
        org_name=org.name,
        role=identity.Role(user.role),
        user_id=user.id,
        label=user.email,
        is_coordinator=user.is_coordinator,
        is_lab_evaluator=user.is_lab_evaluator,
        group_ids=group_ids_of(session, org.id),
    )


@dataclass
class Member:
    org: OrganizationOut
    user: UserOut
    principal: Principal
    key: str


def make_member(
    session: Session, role: str = "admin", *, coordinator: bool = False, kind: str = "sme", name: str | None = None
) -> Member:
    """An organization with one user of that role and an API key of that role bound to the user."""
    org = make_org(session, name=name, kind=kind)
    user = make_user(session, org, role, coordinator=coordinator)
    principal = principal_of(session, user)
    key = identity.create_api_key(session, principal, role=role, user_id=user.id, label="test").key
    session.flush()
    return Member(org, user, principal, key)


def make_group(session: Session, owner: Principal, members: list[int], name: str | None = None) -> int:
    group = identity.create_group(
        session, owner, SharingGroupIn(name=name or f"Nhóm {next(_seq)}", member_org_ids=members)
    )
    return group.id


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
