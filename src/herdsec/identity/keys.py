"""API keys: shown once, stored hashed, found by prefix, revocable, optionally expiring, last use recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput, NotFound, PermissionDenied
from herdsec.identity import audit
from herdsec.identity.logic import Role, check_role_grantable, hash_token, new_api_key, parse_choice
from herdsec.identity.models import ApiKey, Organization, User
from herdsec.identity.principal import Principal
from herdsec.identity.schemas import ApiKeyCreated, ApiKeyOut


def create_api_key(
    session: Session,
    actor: Principal,
    *,
    org_id: int | None = None,
    role: str = "viewer",
    label: str = "",
    expires_at: datetime | None = None,
    user_id: int | None = None,
) -> ApiKeyCreated:
    """Issue a key for an organization. Members get keys for themselves, admins for their organization."""
    org_id = actor.org_id if org_id is None else org_id
    if session.get(Organization, org_id) is None:
        raise NotFound(N_("no organization with id %(id)s"), where="organization", id=org_id)
    if org_id != actor.org_id and not actor.is_coordinator:
        raise PermissionDenied(N_("you may not act on another organization"))
    wanted = parse_choice(Role, role, "role")
    check_role_grantable(actor.role, actor.is_coordinator, wanted)
    if user_id is None and not (actor.is_coordinator or actor.has_role(Role.ADMIN)):
        user_id = actor.user_id  # a non-admin's key is always bound to themselves
    if user_id is not None:
        owner = session.get(User, user_id)
        if owner is None or owner.organization_id != org_id:
            raise InvalidInput(N_("the user does not belong to this organization"), where="user")
        if owner.id != actor.user_id and not (actor.is_coordinator or actor.has_role(Role.ADMIN)):
            raise PermissionDenied(N_("you may only create keys for yourself"))
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput(N_("the expiry must be in the future"), where="expires_at")
    prefix, secret = new_api_key()
    key = ApiKey(
        prefix=prefix,
        key_hash=hash_token(secret),
        organization_id=org_id,
        user_id=user_id,
        role=wanted.value,
        label=label.strip()[:120],
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(
        session, actor, "apikey.create", "api_key", prefix, target_org_id=org_id, role=wanted.value, label=key.label
    )
    return ApiKeyCreated(key=secret, api_key=ApiKeyOut.model_validate(key))


def list_api_keys(session: Session, actor: Principal, org_id: int | None = None) -> list[ApiKeyOut]:
    """Admins see every key of their organization; other members their own keys."""
    org_id = actor.org_id if org_id is None else org_id
    if org_id != actor.org_id and not actor.is_coordinator:
        raise PermissionDenied(N_("you may not act on another organization"))
    query = select(ApiKey).where(ApiKey.organization_id == org_id).order_by(ApiKey.id.desc())
    if not (actor.is_coordinator or actor.has_role(Role.ADMIN)):
        query = query.where(ApiKey.user_id == actor.user_id)
    return [ApiKeyOut.model_validate(k) for k in session.scalars(query)]


def revoke_api_key(session: Session, actor: Principal, key_id: int) -> ApiKeyOut:
    key = session.get(ApiKey, key_id)
    if key is None or (key.organization_id != actor.org_id and not actor.is_coordinator):
        raise NotFound(N_("no API key with id %(id)s"), where="api_key", id=key_id)
    own = key.user_id is not None and key.user_id == actor.user_id
    if not (own or actor.is_coordinator or actor.has_role(Role.ADMIN)):
        raise PermissionDenied(N_("you may only revoke your own keys"))
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
        audit.record(session, actor, "apikey.revoke", "api_key", key.prefix, target_org_id=key.organization_id)
    return ApiKeyOut.model_validate(key)
