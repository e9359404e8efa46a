"""Business rules of identity, exercised through the services on the real database."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.db import Database
from herdsec.core.errors import AuthenticationRequired, Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.identity.models import ApiKey, AuditEntry, Organization, User
from herdsec.identity.schemas import OrganizationIn, SharingGroupIn, UserIn, UserPatch
from tests.factories import OPERATOR, PASSWORD, make_group, make_member, make_org, make_user, principal_of


def _audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- organizations ----------------------------------------------------------------------------------------------


def test_vietnamese_names_are_kept_and_clash_ignoring_case_and_spacing(session: Session) -> None:
    org = make_org(session, name="Ngân hàng TMCP Đông Á", kind="bank", province="TP. Hồ Chí Minh")
    assert org.name == "Ngân hàng TMCP Đông Á"
    assert identity.find_org(session, "ngân hàng tmcp  đông á").id == org.id
    with pytest.raises(Conflict) as info:
        make_org(session, name="  NGÂN HÀNG TMCP ĐÔNG Á ", kind="bank")
    assert "Ngân hàng TMCP Đông Á" in str(info.value) and info.value.where == "name"
    # Diacritics are part of the name: "Đông A" is another organization.
    assert make_org(session, name="Ngân hàng TMCP Đông A", kind="bank").id != org.id


def test_unknown_kind_and_size_name_the_field(session: Session) -> None:
    with pytest.raises(InvalidInput) as info:
        make_org(session, kind="startup")
    assert info.value.where == "kind" and "sme" in str(info.value)
    with pytest.raises(InvalidInput) as info:
        make_org(session, kind="sme", size_band="huge")
    assert info.value.where == "size_band"


def test_only_coordinators_register_organizations(session: Session) -> None:
    member = make_member(session, "admin")
    with pytest.raises(PermissionDenied):
        identity.create_org(session, member.principal, OrganizationIn(name="Công ty mới", kind="sme"))
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    assert identity.create_org(session, boss.principal, OrganizationIn(name="Công ty mới", kind="sme")).id


def test_html_in_a_name_is_stored_as_text(session: Session) -> None:
    org = make_org(session, name="<script>alert(1)</script> Công ty")
    assert identity.get_org(session, org.id).name == "<script>alert(1)</script> Công ty"


def test_failed_creation_leaves_nothing_behind(db: Database) -> None:
    with db.transaction() as s:
        make_org(s, name="Công ty Gốc")
        before = s.scalar(select(func.count()).select_from(Organization))
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))

    def clashing_unit_of_work() -> None:
        with db.transaction() as s:
            make_org(s, name="Công ty Khác")  # succeeds inside the unit of work ...
            make_org(s, name="công ty gốc")  # ... but this clashes, so the whole unit is rolled back

    with pytest.raises(Conflict):
        clashing_unit_of_work()
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == before
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_update_org_by_own_admin_but_not_kind_or_other_org(session: Session) -> None:
    a = make_member(session, "admin")
    b = make_member(session, "admin")
    data = OrganizationIn(name="Tên mới của A", kind=a.org.kind, province="Huế")
    assert identity.update_org(session, a.principal, a.org.id, data).province == "Huế"
    with pytest.raises(PermissionDenied):
        identity.update_org(session, b.principal, a.org.id, data)
    with pytest.raises(PermissionDenied, match="kind"):
        identity.update_org(session, a.principal, a.org.id, OrganizationIn(name="Tên mới của A", kind="bank"))
    with pytest.raises(Conflict):
        identity.update_org(session, a.principal, a.org.id, OrganizationIn(name=b.org.name, kind=a.org.kind))


# --- users and roles --------------------------------------------------------------------------------------------


def test_duplicate_email_is_a_conflict_naming_it(session: Session) -> None:
    org = make_org(session)
    make_user(session, org, email="an.nguyen@example.vn")
    with pytest.raises(Conflict, match=r"an\.nguyen@example\.vn"):
        make_user(session, org, email="AN.NGUYEN@example.vn")


def test_unknown_role_names_the_field(session: Session) -> None:
    org = make_org(session)
    with pytest.raises(InvalidInput) as info:
        identity.create_user(session, OPERATOR, org.id, UserIn(email="x@y.example", name="X", role="superuser"))
    assert info.value.where == "role"


def test_org_admin_cannot_grant_platform_roles_to_anyone_including_itself(session: Session) -> None:
    admin = make_member(session, "admin")
    colleague = make_user(session, admin.org, "viewer")
    for target in (admin.user.id, colleague.id):
        for patch in (UserPatch(is_coordinator=True), UserPatch(is_lab_evaluator=True)):
            with pytest.raises(PermissionDenied, match="coordinator"):
                identity.update_user(session, admin.principal, target, patch)
    assert not session.get(User, admin.user.id).is_coordinator  # type: ignore[union-attr]
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    assert identity.update_user(
        session, boss.principal, colleague.id, UserPatch(is_lab_evaluator=True)
    ).is_lab_evaluator


def test_roles_are_granted_only_up_to_ones_own(session: Session) -> None:
    analyst = make_member(session, "analyst")
    with pytest.raises(PermissionDenied):
        identity.create_user(
            session, analyst.principal, analyst.org.id, UserIn(email="new@x.example", name="New", role="viewer")
        )
    admin_org = make_member(session, "admin")
    user = identity.create_user(
        session, admin_org.principal, admin_org.org.id, UserIn(email="new@x.example", name="New", role="analyst")
    )
    assert user.role == "analyst"


def test_member_cannot_act_on_another_organization(session: Session) -> None:
    a = make_member(session, "admin")
    b = make_member(session, "admin")
    with pytest.raises(PermissionDenied, match="another organization"):
        identity.create_user(session, a.principal, b.org.id, UserIn(email="z@z.example", name="Z", role="viewer"))
    with pytest.raises(PermissionDenied):
        identity.list_users(session, a.principal, b.org.id)
    with pytest.raises(PermissionDenied):
        identity.update_user(session, a.principal, b.user.id, UserPatch(role="viewer"))


def test_the_last_admin_cannot_be_demoted_or_deactivated(session: Session) -> None:
    admin = make_member(session, "admin")
    with pytest.raises(Conflict, match="admin"):
        identity.update_user(session, admin.principal, admin.user.id, UserPatch(role="viewer"))
    with pytest.raises(Conflict):
        identity.update_user(session, admin.principal, admin.user.id, UserPatch(active=False))
    second = make_user(session, admin.org, "admin")
    assert identity.update_user(session, admin.principal, second.id, UserPatch(role="viewer")).role == "viewer"


def test_users_change_their_own_name_and_language_and_password(session: Session) -> None:
    viewer = make_member(session, "viewer")
    out = identity.update_user(session, viewer.principal, viewer.user.id, UserPatch(name="Trần Thị B", language="vi"))
    assert (out.name, out.language) == ("Trần Thị B", "vi")
    with pytest.raises(InvalidInput):
        identity.update_user(session, viewer.principal, viewer.user.id, UserPatch(language="fr"))
    with pytest.raises(PermissionDenied):
        identity.update_user(session, viewer.principal, viewer.user.id, UserPatch(role="admin"))
    with pytest.raises(PermissionDenied, match="current password"):
        identity.set_password(session, viewer.principal, viewer.user.id, "a new long password", "wrong")
    with pytest.raises(InvalidInput, match="10"):
        identity.set_password(session, viewer.principal, viewer.user.id, "short", PASSWORD)
    identity.set_password(session, viewer.principal, viewer.user.id, "a new long password", PASSWORD)
    assert identity.login(session, viewer.user.email, "a new long password", "10.0.0.1", 1)


# --- API keys ---------------------------------------------------------------------------------------------------


def test_api_key_is_shown_once_and_stored_hashed(session: Session) -> None:
    member = make_member(session, "analyst")
    row = session.scalar(select(ApiKey).where(ApiKey.user_id == member.user.id))
    assert row is not None and member.key not in row.key_hash and row.prefix in member.key
    assert all(member.key not in str(v) for v in row.__dict__.values())
    listed = identity.list_api_keys(session, member.principal)
    assert "key" not in listed[0].model_dump()


def test_api_key_authenticates_and_records_last_use(session: Session) -> None:
    member = make_member(session, "analyst")
    principal = identity.authenticate_api_key(session, member.key, "203.0.113.7")
    assert (principal.org_id, principal.role, principal.user_id) == (
        member.org.id,
        identity.Role.ANALYST,
        member.user.id,
    )
    session.flush()
    row = session.scalar(select(ApiKey).where(ApiKey.user_id == member.user.id))
    assert row is not None and row.last_used_ip == "203.0.113.7" and row.last_used_at is not None


@pytest.mark.parametrize("raw", ["", "nonsense", "hsk_1234_short", "Bearer x", "hsk_zzzzzzzz_" + "a" * 43])
def test_malformed_or_unknown_keys_are_refused(session: Session, raw: str) -> None:
    with pytest.raises(AuthenticationRequired):
        identity.authenticate_api_key(session, raw)


def test_a_tampered_key_with_a_real_prefix_is_refused(session: Session) -> None:
    member = make_member(session, "viewer")
    tampered = member.key[:-4] + ("AAAA" if not member.key.endswith("AAAA") else "BBBB")
    with pytest.raises(AuthenticationRequired, match="unknown"):
        identity.authenticate_api_key(session, tampered)


def test_revoked_and_expired_keys_are_refused(session: Session) -> None:
    member = make_member(session, "admin")
    identity.revoke_api_key(session, member.principal, _key_id(session, member.key))
    with pytest.raises(AuthenticationRequired, match="revoked"):
        identity.authenticate_api_key(session, member.key)
    fresh = identity.create_api_key(
        session, member.principal, role="viewer", expires_at=utcnow() + timedelta(seconds=30)
    )
    row = session.get(ApiKey, fresh.api_key.id)
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)  # time passes
    session.flush()
    with pytest.raises(AuthenticationRequired, match="expired"):
        identity.authenticate_api_key(session, fresh.key)
    with pytest.raises(InvalidInput, match="future"):
        identity.create_api_key(session, member.principal, role="viewer", expires_at=utcnow() - timedelta(days=1))


def _key_id(session: Session, key: str) -> int:
    prefix = key.split("_")[1]
    found = session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix))
    assert found is not None
    return found


def test_key_role_is_capped_by_its_users_current_role(session: Session) -> None:
    member = make_member(session, "admin")
    second_admin = make_user(session, member.org, "admin")
    identity.update_user(session, principal_of(session, second_admin), member.user.id, UserPatch(role="viewer"))
    assert identity.authenticate_api_key(session, member.key).role is identity.Role.VIEWER


def test_key_rules_across_roles_and_organizations(session: Session) -> None:
    viewer = make_member(session, "viewer")
    with pytest.raises(PermissionDenied):
        identity.create_api_key(session, viewer.principal, role="admin")
    own = identity.create_api_key(session, viewer.principal, role="viewer")
    assert own.api_key.user_id == viewer.user.id
    other = make_member(session, "admin")
    with pytest.raises(PermissionDenied):
        identity.create_api_key(session, viewer.principal, org_id=other.org.id, role="viewer")
    with pytest.raises(NotFound):
        identity.revoke_api_key(session, viewer.principal, _key_id(session, other.key))


def test_deactivated_users_keys_stop_working(session: Session) -> None:
    member = make_member(session, "analyst")
    admin = make_user(session, member.org, "admin")
    identity.update_user(session, principal_of(session, admin), member.user.id, UserPatch(active=False))
    with pytest.raises(AuthenticationRequired, match="deactivated"):
        identity.authenticate_api_key(session, member.key)


# --- web login --------------------------------------------------------------------------------------------------


def test_login_sessions(session: Session) -> None:
    member = make_member(session, "viewer")
    with pytest.raises(AuthenticationRequired):
        identity.login(session, member.user.email, "wrong password!", None, 1)
    token = identity.login(session, member.user.email, PASSWORD, "198.51.100.2", 1)
    principal = identity.session_principal(session, token)
    assert principal.user_id == member.user.id
    identity.logout(session, principal, token)
    assert _audit_actions(session)[-2:] == ["session.login", "session.logout"]
    with pytest.raises(AuthenticationRequired):
        identity.session_principal(session, token)


# --- sharing groups ---------------------------------------------------------------------------------------------


def test_sharing_group_membership(session: Session) -> None:
    owner, a, b = make_member(session), make_member(session), make_member(session)
    group_id = make_group(session, owner.principal, [a.org.id])
    group = identity.get_group(session, owner.principal, group_id)
    assert {m.id for m in group.members} == {owner.org.id, a.org.id}
    assert group_id in identity.group_ids_of(session, a.org.id)
    with pytest.raises(NotFound):  # outsiders do not even learn it exists
        identity.get_group(session, b.principal, group_id)
    with pytest.raises(PermissionDenied):
        identity.add_member(session, principal_of(session, a.user), group_id, b.org.id)
    identity.add_member(session, owner.principal, group_id, b.org.id)
    with pytest.raises(Conflict):
        identity.add_member(session, owner.principal, group_id, b.org.id)
    with pytest.raises(Conflict, match="owner"):
        identity.remove_member(session, owner.principal, group_id, owner.org.id)
    identity.remove_member(session, owner.principal, group_id, a.org.id)
    assert group_id not in identity.group_ids_of(session, a.org.id)
    with pytest.raises(Conflict):
        identity.create_group(session, owner.principal, SharingGroupIn(name=group.name.upper()))
    with pytest.raises(InvalidInput):
        identity.create_group(session, owner.principal, SharingGroupIn(name="Nhóm lỗi", member_org_ids=[999999]))


def test_viewers_cannot_create_groups(session: Session) -> None:
    viewer = make_member(session, "viewer")
    with pytest.raises(PermissionDenied):
        identity.create_group(session, viewer.principal, SharingGroupIn(name="Nhóm"))


# --- audit log --------------------------------------------------------------------------------------------------


def test_every_change_is_audited_with_who_and_where(session: Session) -> None:
    member = make_member(session, "admin")
    actor = principal_of(session, member.user)
    actor = dataclasses.replace(actor, ip="192.0.2.10")
    identity.create_user(session, actor, member.org.id, UserIn(email="c@c.example", name="C", role="viewer"))
    created = identity.create_api_key(session, actor, role="viewer")
    identity.revoke_api_key(session, actor, created.api_key.id)
    make_group(session, actor, [])
    session.flush()
    page = identity.list_audit(session, actor, limit=10)
    actions = [e.action for e in page.items]
    assert actions[:4] == ["group.create", "apikey.revoke", "apikey.create", "user.create"]
    assert all(e.ip == "192.0.2.10" and e.actor_user_id == member.user.id for e in page.items[:4])
    assert {"org.create", "user.create", "apikey.create"} <= set(_audit_actions(session))


def test_audit_log_pages_and_scopes(session: Session) -> None:
    a = make_member(session, "admin")
    b = make_member(session, "admin")
    for i in range(5):
        identity.create_api_key(session, a.principal, role="viewer", label=f"k{i}")
    first = identity.list_audit(session, a.principal, limit=3)
    assert len(first.items) == 3 and first.next
    second = identity.list_audit(session, a.principal, limit=3, cursor=first.next)
    assert {e.id for e in first.items}.isdisjoint({e.id for e in second.items})
    assert all(e.target_org_id in (a.org.id, None) or e.actor_org_id == a.org.id for e in first.items + second.items)
    assert all(e.target_org_id != b.org.id for e in first.items + second.items)
    with pytest.raises(PermissionDenied):
        identity.list_audit(session, principal_of(session, make_user(session, a.org, "viewer")))
    with pytest.raises(InvalidInput, match="cursor"):
        identity.list_audit(session, a.principal, cursor="not-a-cursor")


def test_audit_log_is_append_only_in_the_database(session: Session) -> None:
    make_org(session)
    session.flush()
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        nested.rollback()
    assert "org.create" in _audit_actions(session)
