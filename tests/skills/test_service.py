"""Loading (idempotent), browsing, search and custom roles, against the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herdsec.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.skills import service
from herdsec.skills.models import SkillCrosswalk, SkillRole, SkillRoleStatement, SkillStatement
from herdsec.skills.schemas import CustomRoleIn
from tests.factories import make_member


def _counts(session: Session) -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(t))
        for t in (SkillRole, SkillStatement, SkillRoleStatement, SkillCrosswalk)
    )


def test_load_is_idempotent_and_keeps_the_version(session: Session) -> None:
    before = _counts(session)
    report = service.load(session)
    assert (report.created, report.updated) == (0, 0)
    assert _counts(session) == before == (53, 2148, 5334, 28)
    assert report.version == "2.1.0" and report.ecsf_profiles == 12
    assert set(session.scalars(select(SkillStatement.version).distinct())) == {"2.1.0"}


def test_roles_by_category_with_hub_translations(session: Session) -> None:
    pd = service.list_roles(session, "nice", "PD")
    assert [r.code for r in pd] == [f"PD-WRL-00{i}" for i in range(1, 8)]
    assert all(r.name_vi for r in service.list_roles(session, "nice"))
    groups = service.list_groups(session)
    assert len(groups) == 16 and all(g.name_vi for g in groups)
    assert all(g.text_vi for g in groups if g.kind == "category")


def test_role_detail_has_statements_crosswalk_and_old_ids(session: Session) -> None:
    d = service.role_detail(session, "PD-WRL-003")
    assert d.name_vi == "Ứng cứu sự cố" and d.vi_source == "hub" and d.text_vi and "sự cố" in d.text_vi
    assert d.tasks and d.knowledge and d.skills
    assert {s.kind for s in d.tasks} == {"task"}
    assert "PR-CIR-001" in d.legacy_codes
    assert [(x.code, x.relation) for x in d.crosswalk] == [("ECSF-02", "equivalent")]
    old = service.role_detail(session, "pr-cir-001")
    assert old.code == "PD-WRL-003" and old.resolved_from == "PR-CIR-001"
    ecsf = service.role_detail(session, "ECSF-12")
    assert ecsf.details["tasks_vi"] and {x.relation for x in ecsf.crosswalk} == {"narrower", "related"}


def test_unknown_and_retired_roles(session: Session) -> None:
    with pytest.raises(NotFound, match="no work role XX-1"):
        service.role_detail(session, "XX-1")
    with pytest.raises(NotFound, match="retired in NICE v2"):
        service.role_detail(session, "CO-OPS-001")


def test_statement_search_in_either_language(session: Session) -> None:
    en = service.search_statements(session, "penetration testing", limit=5)
    vi = service.search_statements(session, "kiểm thử xâm nhập", limit=5)
    assert en[0].code == vi[0].code and "penetration" in en[0].text_en.lower()
    assert en[0].roles
    assert all(h.kind == "skill" for h in service.search_statements(session, "mã hóa", kind="skill"))
    assert service.search_statements(session, "   ") == []
    with pytest.raises(InvalidInput, match="over 500"):
        service.search_statements(session, "x" * 501)


ROLE = CustomRoleIn(
    code="VN-WRL-001",
    name_en="Payment Fraud Analyst",
    name_vi="Chuyên viên phân tích gian lận thanh toán",
    category="PD",
    statements=["T1387", "K0732"],
    aliases=["chuyên viên chống gian lận thẻ", "fraud analyst"],
)


def test_coordinators_add_custom_roles_that_matching_uses(session: Session) -> None:
    coordinator = make_member(session, coordinator=True)
    created = service.create_custom_role(session, coordinator.principal, ROLE)
    assert created.framework == "custom" and [s.code for s in created.knowledge + created.tasks] == ["K0732", "T1387"]
    ranked = service.matcher(session).match("Chuyên viên chống gian lận thẻ", "Phân tích giao dịch thẻ gian lận")
    assert ranked.roles[0].code == "VN-WRL-001"
    with pytest.raises(Conflict):
        service.create_custom_role(session, coordinator.principal, ROLE)


def test_custom_roles_are_checked(session: Session) -> None:
    member = make_member(session)
    with pytest.raises(PermissionDenied):
        service.create_custom_role(session, member.principal, ROLE)
    coordinator = make_member(session, coordinator=True)
    with pytest.raises(InvalidInput, match="unknown statement"):
        service.create_custom_role(session, coordinator.principal, ROLE.model_copy(update={"statements": ["T9999"]}))
    with pytest.raises(InvalidInput, match="unknown category"):
        service.create_custom_role(session, coordinator.principal, ROLE.model_copy(update={"category": "ZZ"}))
