"""Turning credentials (API key, web session, the local CLI operator) into a :class:`Principal`."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, AuthenticationRequired
from herdsec.identity import audit
from herdsec.identity.logic import ROLE_RANK, Role, hash_token, split_api_key, token_matches, verify_password
from herdsec.identity.models import ApiKey, Organization, SharingGroupMember, User, WebSession
from herdsec.identity.principal import Principal
from herdsec.identity.visibility import Viewer

LAST_USE_RESOLUTION = timedelta(minutes=1)  # record last use at most once a minute: no write per request


def group_ids_of(session: Session, org_id: int) -> frozenset[int]:
    rows = session.scalars(select(SharingGroupMember.group_id).where(SharingGroupMember.organization_id == org_id))
    return frozenset(rows)


def system_principal(label: str = "cli") -> Principal:
    """The hub operator at the command line: a coordinator outside every organization."""
    return Principal(org_id=0, org_name="", role=Role.ADMIN, label=label, is_coordinator=True)


def org_principal(session: Session, org_id: int, label: str) -> Principal:
    """The hub operator acting for one organization at the command line (as that organization's admin)."""
    org = session.get(Organization, org_id)
    if org is None:
        raise AuthenticationRequired(N_("no organization with id %(id)s"), id=org_id)
    return _principal(session, None, org, Role.ADMIN, label_override=label)


def viewer_for(principal: Principal, *, bulk: bool = False) -> Viewer:
    """The visibility audience of a member principal."""
    return Viewer.member(principal.org_id, principal.group_ids, bulk=bulk)


def _principal(
    session: Session,
    user: User | None,
    org: Organization,
    role: Role,
    label_override: str | None = None,
    **extra: object,
) -> Principal:
    label = f"{user.email if user else 'key ' + str(extra.get('api_key_prefix'))} ({org.name})"
    return Principal(
        org_id=org.id,
        org_name=org.name,
        role=role,
        user_id=user.id if user else None,
        label=label_override or label,
        is_coordinator=bool(user and user.is_coordinator),
        is_lab_evaluator=bool(user and user.is_lab_evaluator),
        group_ids=group_ids_of(session, org.id),
        language=user.language if user else None,
        **extra,  # type: ignore[arg-type]
    )


def authenticate_api_key(session: Session, raw: str, ip: str | None = None) -> Principal:
    prefix = split_api_key(raw)
    if prefix is None:
        raise AuthenticationRequired(N_("malformed API key"))
    key = session.scalar(
        select(ApiKey).where(ApiKey.prefix == prefix).options(joinedload(ApiKey.user), joinedload(ApiKey.organization))
    )
    if key is None or not token_matches(raw.strip(), key.key_hash):
        raise AuthenticationRequired(N_("unknown API key"))
    now = utcnow()
    if key.revoked_at is not None:
        raise AuthenticationRequired(N_("this API key was revoked"))
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationRequired(N_("this API key has expired"))
    user = key.user
    role = Role(key.role)
    if user is not None:
        if not user.active:
            raise AuthenticationRequired(N_("the user of this API key is deactivated"))
        role = min(role, Role(user.role), key=ROLE_RANK.__getitem__)
    if key.last_used_at is None or now - key.last_used_at > LAST_USE_RESOLUTION or key.last_used_ip != ip:
        key.last_used_at, key.last_used_ip = now, ip
    return _principal(session, user, key.organization, role, api_key_prefix=prefix, ip=ip)


def login(session: Session, email: str, password: str, ip: str | None, hours: int) -> str:
    """Check a password and open a web session; returns the session token for the cookie."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise AuthenticationRequired(N_("wrong e-mail or password"))
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(token_hash=hash_token(token), user_id=user.id, expires_at=utcnow() + timedelta(hours=hours), ip=ip)
    )
    principal = _principal(session, user, user.organization, Role(user.role), ip=ip)
    audit.record(session, principal, "session.login", "user", user.id, target_org_id=user.organization_id)
    return token


def session_principal(session: Session, token: str, ip: str | None = None) -> Principal:
    row = session.scalar(
        select(WebSession)
        .where(WebSession.token_hash == hash_token(token))
        .options(joinedload(WebSession.user).joinedload(User.organization))
    )
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        raise AuthenticationRequired(N_("your session has ended; please log in again"))
    user = row.user
    return _principal(session, user, user.organization, Role(user.role), ip=ip)


def logout(session: Session, actor: Principal, token: str) -> None:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(token)))
    if row is not None:
        session.delete(row)
        audit.record(session, actor, "session.logout", "user", row.user_id, target_org_id=actor.org_id)
