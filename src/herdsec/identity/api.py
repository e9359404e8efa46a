"""JSON API of the identity module, mounted under ``/api/v1``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from herdsec import identity
from herdsec.core.pagination import Page
from herdsec.identity.principal import Principal
from herdsec.identity.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    AuditOut,
    MemberIn,
    MeOut,
    OrganizationIn,
    OrganizationOut,
    SharingGroupIn,
    SharingGroupOut,
    UserIn,
    UserOut,
    UserPatch,
)
from herdsec.web.deps import api_principal, transaction

router = APIRouter(tags=["identity"])
Caller = Annotated[Principal, Depends(api_principal)]


@router.get("/me", response_model=MeOut, summary="The caller: user, role and organization")
def me(request: Request, caller: Caller) -> MeOut:
    with transaction(request) as s:
        user = identity.get_user(s, caller.user_id) if caller.user_id else None
        org = identity.get_org(s, caller.org_id)
    return MeOut(
        user=user,
        role=caller.role.value,
        organization=org,
        api_key_prefix=caller.api_key_prefix,
        sharing_group_ids=sorted(caller.group_ids),
    )


@router.get("/orgs", response_model=list[OrganizationOut], summary="Member directory")
def list_orgs(request: Request, caller: Caller, kind: str | None = None) -> list[OrganizationOut]:
    with transaction(request) as s:
        return identity.list_orgs(s, kind=kind)


@router.post("/orgs", response_model=OrganizationOut, status_code=201, summary="Register an organization")
def create_org(request: Request, caller: Caller, body: OrganizationIn) -> OrganizationOut:
    with transaction(request) as s:
        return identity.create_org(s, caller, body)


@router.get("/orgs/{org_id}", response_model=OrganizationOut)
def get_org(request: Request, caller: Caller, org_id: int) -> OrganizationOut:
    with transaction(request) as s:
        return identity.get_org(s, org_id)


@router.put("/orgs/{org_id}", response_model=OrganizationOut, summary="Update an organization's profile")
def update_org(request: Request, caller: Caller, org_id: int, body: OrganizationIn) -> OrganizationOut:
    with transaction(request) as s:
        return identity.update_org(s, caller, org_id, body)


@router.get("/orgs/{org_id}/users", response_model=list[UserOut])
def list_users(request: Request, caller: Caller, org_id: int) -> list[UserOut]:
    with transaction(request) as s:
        return identity.list_users(s, caller, org_id)


@router.post("/orgs/{org_id}/users", response_model=UserOut, status_code=201)
def create_user(request: Request, caller: Caller, org_id: int, body: UserIn) -> UserOut:
    with transaction(request) as s:
        return identity.create_user(s, caller, org_id, body)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(request: Request, caller: Caller, user_id: int, body: UserPatch) -> UserOut:
    with transaction(request) as s:
        return identity.update_user(s, caller, user_id, body)


@router.get("/keys", response_model=list[ApiKeyOut], summary="API keys of the caller's organization")
def list_keys(request: Request, caller: Caller, org_id: int | None = None) -> list[ApiKeyOut]:
    with transaction(request) as s:
        return identity.list_api_keys(s, caller, org_id)


@router.post("/keys", response_model=ApiKeyCreated, status_code=201, summary="Create a key (the secret is shown once)")
def create_key(request: Request, caller: Caller, body: ApiKeyIn) -> ApiKeyCreated:
    with transaction(request) as s:
        return identity.create_api_key(
            s, caller, org_id=body.organization_id, role=body.role, label=body.label, expires_at=body.expires_at
        )


@router.delete("/keys/{key_id}", response_model=ApiKeyOut, summary="Revoke a key")
def revoke_key(request: Request, caller: Caller, key_id: int) -> ApiKeyOut:
    with transaction(request) as s:
        return identity.revoke_api_key(s, caller, key_id)


@router.get("/sharing-groups", response_model=list[SharingGroupOut])
def list_groups(request: Request, caller: Caller) -> list[SharingGroupOut]:
    with transaction(request) as s:
        return identity.list_groups(s, caller)


@router.post("/sharing-groups", response_model=SharingGroupOut, status_code=201)
def create_group(request: Request, caller: Caller, body: SharingGroupIn) -> SharingGroupOut:
    with transaction(request) as s:
        return identity.create_group(s, caller, body)


@router.get("/sharing-groups/{group_id}", response_model=SharingGroupOut)
def get_group(request: Request, caller: Caller, group_id: int) -> SharingGroupOut:
    with transaction(request) as s:
        return identity.get_group(s, caller, group_id)


@router.post("/sharing-groups/{group_id}/members", response_model=SharingGroupOut)
def add_member(request: Request, caller: Caller, group_id: int, body: MemberIn) -> SharingGroupOut:
    with transaction(request) as s:
        return identity.add_member(s, caller, group_id, body.organization_id)


@router.delete("/sharing-groups/{group_id}/members/{org_id}", response_model=SharingGroupOut)
def remove_member(request: Request, caller: Caller, group_id: int, org_id: int) -> SharingGroupOut:
    with transaction(request) as s:
        return identity.remove_member(s, caller, group_id, org_id)


@router.get("/audit", response_model=Page[AuditOut], summary="Audit log, newest first")
def audit_log(
    request: Request,
    caller: Caller,
    action: str | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    next: str | None = None,
) -> Page[AuditOut]:
    with transaction(request) as s:
        return identity.list_audit(s, caller, action=action, since=since, limit=limit, cursor=next)
