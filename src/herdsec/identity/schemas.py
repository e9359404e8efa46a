"""Pydantic shapes that cross the identity module's boundary (API bodies and service results)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrganizationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: str
    sector: str | None = Field(None, max_length=80)
    size_band: str | None = None
    province: str | None = Field(None, max_length=80)
    country: str = Field("VN", min_length=2, max_length=2)
    description: str | None = Field(None, max_length=4000)


class OrganizationOut(_Out):
    id: int
    uuid: str
    name: str
    kind: str
    sector: str | None
    size_band: str | None
    province: str | None
    country: str
    description: str | None
    created_at: datetime

    @property
    def stix_identity_id(self) -> str:
        return f"identity--{self.uuid}"


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: str = "viewer"
    language: str | None = None
    password: str | None = Field(None, max_length=200)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    role: str | None = None
    language: str | None = None
    active: bool | None = None
    is_coordinator: bool | None = None
    is_lab_evaluator: bool | None = None


class UserOut(_Out):
    id: int
    organization_id: int
    email: str
    name: str
    language: str | None
    role: str
    is_coordinator: bool
    is_lab_evaluator: bool
    active: bool
    created_at: datetime


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = "viewer"
    label: str = Field("", max_length=120)
    organization_id: int | None = None
    expires_at: datetime | None = None


class ApiKeyOut(_Out):
    id: int
    prefix: str
    organization_id: int
    user_id: int | None
    role: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None


class ApiKeyCreated(BaseModel):
    """The only time the secret is returned."""

    key: str
    api_key: ApiKeyOut


class SharingGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    member_org_ids: list[int] = Field(default_factory=list, max_length=1000)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: int


class OrgRef(_Out):
    id: int
    name: str
    kind: str


class SharingGroupOut(BaseModel):
    id: int
    uuid: str
    name: str
    description: str | None
    owner: OrgRef
    members: list[OrgRef]
    created_at: datetime


class AuditOut(_Out):
    id: int
    at: datetime
    actor_user_id: int | None
    actor_org_id: int | None
    actor_label: str
    api_key_prefix: str | None
    action: str
    target_type: str
    target_id: str | None
    target_org_id: int | None
    details: dict[str, Any]
    ip: str | None


class MeOut(BaseModel):
    user: UserOut | None
    role: str
    organization: OrganizationOut
    api_key_prefix: str | None
    sharing_group_ids: list[int]
