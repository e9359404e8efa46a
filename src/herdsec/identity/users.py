"""Use-cases for users: membership of an organization, roles, platform roles, passwords, language."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.identity import audit
from herdsec.identity.logic import (
    Role,
    check_may_grant_platform_roles,
    check_may_manage_org,
    check_role_grantable,
    clean_email,
    clean_name,
    hash_password,
    parse_choice,
    verify_password,
)
from herdsec.identity.models import Organization, User, WebSession
from herdsec.identity.principal import Principal
from herdsec.identity.schemas import UserIn, UserOut, UserPatch

LANGUAGES = ("vi", "en")


def _language(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in LANGUAGES:
        raise InvalidInput(N_("unknown language %(value)r; expected vi or en"), where="language", value=value)
    return value


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("no user with id %(id)s"), where="user", id=user_id)
    return user


def create_user(session: Session, actor: Principal, org_id: int, data: UserIn) -> UserOut:
    """Add a user to an organization: that organization's admins or a coordinator."""
    check_may_manage_org(actor.org_id, actor.role, actor.is_coordinator, org_id)
    if session.get(Organization, org_id) is None:
        raise NotFound(N_("no organization with id %(id)s"), where="organization", id=org_id)
    role = parse_choice(Role, data.role, "role")
    check_role_grantable(actor.role, actor.is_coordinator, role)
    email = clean_email(data.email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(N_("a user with e-mail %(email)s already exists"), where="email", email=email)
    user = User(
        organization_id=org_id,
        email=email,
        name=clean_name(data.name),
        role=role.value,
        language=_language(data.language),
        password_hash=hash_password(data.password) if data.password else None,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, target_org_id=org_id, email=email, role=role.value)
    return UserOut.model_validate(user)


def list_users(session: Session, actor: Principal, org_id: int) -> list[UserOut]:
    """The users of one organization, for its own members or a coordinator."""
    if org_id != actor.org_id and not actor.is_coordinator:
        raise PermissionDenied(N_("you may not act on another organization"))
    rows = session.scalars(select(User).where(User.organization_id == org_id).order_by(User.email))
    return [UserOut.model_validate(u) for u in rows]


def get_user(session: Session, user_id: int) -> UserOut:
    return UserOut.model_validate(_get(session, user_id))


def find_user_by_email(session: Session, email: str) -> UserOut | None:
    user = session.scalar(select(User).where(User.email == clean_email(email)))
    return None if user is None else UserOut.model_validate(user)


def update_user(session: Session, actor: Principal, user_id: int, patch: UserPatch) -> UserOut:
    """Change a user. Anyone may change their own name and language; roles need an admin; platform roles a
    coordinator; nobody may lock the last admin of an organization out."""
    user = _get(session, user_id)
    changes = patch.model_dump(exclude_unset=True)
    self_service = {"name", "language"}
    if not (user.id == actor.user_id and set(changes) <= self_service):
        check_may_manage_org(actor.org_id, actor.role, actor.is_coordinator, user.organization_id)
    if "is_coordinator" in changes or "is_lab_evaluator" in changes:
        check_may_grant_platform_roles(actor.is_coordinator)
    if patch.name is not None:
        user.name = clean_name(patch.name)
    if "language" in changes:
        user.language = _language(patch.language)
    if patch.role is not None:
        role = parse_choice(Role, patch.role, "role")
        check_role_grantable(actor.role, actor.is_coordinator, role)
        if user.role == Role.ADMIN and role is not Role.ADMIN:
            _keep_an_admin(session, user)
        user.role = role.value
    if patch.active is not None:
        if not patch.active and user.role == Role.ADMIN:
            _keep_an_admin(session, user)
        user.active = patch.active
        if not patch.active:
            session.query(WebSession).filter(WebSession.user_id == user.id).delete()
    if patch.is_coordinator is not None:
        user.is_coordinator = patch.is_coordinator
    if patch.is_lab_evaluator is not None:
        user.is_lab_evaluator = patch.is_lab_evaluator
    session.flush()
    audit.record(session, actor, "user.update", "user", user.id, target_org_id=user.organization_id, changes=changes)
    return UserOut.model_validate(user)


def _keep_an_admin(session: Session, user: User) -> None:
    admins = session.scalars(
        select(User.id).where(
            User.organization_id == user.organization_id, User.role == Role.ADMIN.value, User.active.is_(True)
        )
    ).all()
    if set(admins) <= {user.id}:
        raise Conflict(N_("an organization must keep at least one active admin"), where="role")


def set_password(session: Session, actor: Principal, user_id: int, new_password: str, old_password: str | None) -> None:
    """Users change their own password (old one required); an organization admin may reset its users'."""
    user = _get(session, user_id)
    if user.id == actor.user_id:
        if not verify_password(old_password or "", user.password_hash):
            raise PermissionDenied(N_("the current password is wrong"))
    else:
        check_may_manage_org(actor.org_id, actor.role, actor.is_coordinator, user.organization_id)
    user.password_hash = hash_password(new_password)
    session.flush()
    audit.record(session, actor, "user.password", "user", user.id, target_org_id=user.organization_id)
