"""Edit and delete programmes, stored job postings and custom roles: who may, what is audited, and what happens to a
custom role that postings still rank (refused, the postings named)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.identity.models import AuditEntry
from herdsec.skills import market, programmes, service
from herdsec.skills.models import SkillCourse, SkillPosting, SkillRole
from herdsec.skills.schemas import CourseIn, CustomRoleEdit, CustomRoleIn, PostingIn, ProgrammeIn
from tests.factories import Member, bearer, make_member, make_user, principal_of
from tests.test_pages import csrf, log_in

HTML = {"Accept": "text/html"}
SOC = ProgrammeIn(
    name="SOC track",
    province="Huế",
    graduates_per_year=20,
    courses=[CourseIn(code="S1", title="SIEM", outcomes=["Monitor security alerts and analyse logs"])],
)
FRAUD = CustomRoleIn(
    code="VN-WRL-031",
    name_en="Card fraud analyst",
    name_vi="Chuyên viên phân tích gian lận thẻ",
    text_en="Analyses card transactions for fraud.",
    statements=["K0732"],
    aliases=["card fraud analyst", "chuyên viên chống gian lận thẻ"],
)


def _actions(session: Session) -> list[str]:
    return list(
        session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("skills.%")).order_by(AuditEntry.id))
    )


def test_programmes_are_edited_and_deleted_by_their_organization_or_a_coordinator(session: Session) -> None:
    uni = make_member(session, kind="university")
    made = programmes.create_programme(session, uni.principal, SOC)
    other = make_member(session, "admin")
    with pytest.raises(PermissionDenied, match="uploading organization or a coordinator may edit"):
        programmes.update_programme(session, other.principal, made.id, SOC)
    viewer = make_member(session, "viewer")
    with pytest.raises(PermissionDenied):
        programmes.delete_programme(session, viewer.principal, made.id)
    changed = SOC.model_copy(
        update={
            "name": "SOC track 2",
            "courses": [
                CourseIn(code="S1", title="SIEM", outcomes=["Monitor security alerts"]),
                CourseIn(code="F1", title="Forensics", outcomes=["Acquire disk images [T0048]"]),
            ],
        }
    )
    updated = programmes.update_programme(session, uni.principal, made.id, changed)
    assert updated.name == "SOC track 2" and [c.code for c in updated.courses] == ["S1", "F1"]
    assert "T1120" in updated.courses[1].statements  # 2017 id T0048 → T1120
    kept = session.scalars(select(SkillCourse.outcomes).where(SkillCourse.programme_id == made.id)).all()
    assert sorted(kept) == ["Acquire disk images [T0048]", "Monitor security alerts"]  # the old course is gone
    dup = changed.model_copy(update={"courses": [changed.courses[0], changed.courses[0]]})
    with pytest.raises(InvalidInput, match="duplicated course code"):
        programmes.update_programme(session, uni.principal, made.id, dup)
    programmes.create_programme(session, uni.principal, SOC)
    with pytest.raises(Conflict):
        programmes.update_programme(session, uni.principal, made.id, SOC)  # the name of its sibling
    coordinator = make_member(session, coordinator=True)
    programmes.delete_programme(session, coordinator.principal, made.id)
    with pytest.raises(NotFound):
        programmes.get_programme(session, made.id)
    assert _actions(session)[-4:] == [
        "skills.programme.create",
        "skills.programme.update",
        "skills.programme.create",
        "skills.programme.delete",
    ]


def test_postings_are_edited_rematched_and_deleted_within_their_organization(session: Session) -> None:
    bank = make_member(session, "analyst", kind="bank")
    item = PostingIn(id="p1", title="Chuyên viên SOC", text="Giám sát SIEM 24/7", province="Hà Nội")
    market.store_postings(session, bank.principal, [item, item.model_copy(update={"id": "p2"})])
    row = session.scalars(
        select(SkillPosting).where(SkillPosting.org_id == bank.org.id).order_by(SkillPosting.id)
    ).first()
    assert row is not None and row.best_role == "PD-WRL-001"
    outsider = make_member(session, "admin")
    with pytest.raises(NotFound):  # another organization's posting does not exist for it
        market.update_posting(session, outsider.principal, row.id, item)
    with pytest.raises(Conflict, match="'p2'"):
        market.update_posting(session, bank.principal, row.id, item.model_copy(update={"id": "p2"}))
    pentest = item.model_copy(
        update={"title": "Kỹ sư kiểm thử xâm nhập", "text": "Kiểm thử xâm nhập ứng dụng web, viết báo cáo lỗ hổng"}
    )
    found = market.update_posting(session, bank.principal, row.id, pentest)
    assert found.roles[0].id == "PD-WRL-007" and row.best_role == "PD-WRL-007" and row.title.startswith("Kỹ sư")
    market.delete_posting(session, bank.principal, row.id)
    assert session.get(SkillPosting, row.id) is None
    assert _actions(session)[-3:] == ["skills.postings.upload", "skills.posting.update", "skills.posting.delete"]


def test_custom_roles_are_edited_and_a_ranked_one_is_not_deleted(session: Session) -> None:
    coordinator = make_member(session, coordinator=True)
    service.create_custom_role(session, coordinator.principal, FRAUD)
    edit = CustomRoleEdit(**FRAUD.model_dump(exclude={"code"}) | {"statements": ["K0732", "T0098"]})
    member = make_member(session)
    with pytest.raises(PermissionDenied):
        service.update_custom_role(session, member.principal, FRAUD.code, edit)
    with pytest.raises(InvalidInput, match="NICE role"):
        service.update_custom_role(session, coordinator.principal, "PD-WRL-001", edit)
    changed = service.update_custom_role(session, coordinator.principal, FRAUD.code, edit)
    assert sorted(s.code for s in changed.tasks + changed.knowledge) == ["K0732", "T1189"]

    bank = make_member(session, "analyst", kind="bank", name="Ngân hàng A")
    posting = PostingIn(id="fraud-1", title="Chuyên viên chống gian lận thẻ", text="Phân tích giao dịch thẻ gian lận")
    stored = market.store_postings(session, bank.principal, [posting])
    assert stored.matches[0].roles[0].id == FRAUD.code
    with pytest.raises(Conflict) as refused:
        service.delete_custom_role(session, coordinator.principal, FRAUD.code)
    assert "Ngân hàng A/fraud-1" in refused.value.render(lambda s: s)
    assert service.role_detail(session, FRAUD.code).code == FRAUD.code  # still there
    row = session.scalar(select(SkillPosting).where(SkillPosting.external_id == "fraud-1"))
    assert row is not None
    market.delete_posting(session, bank.principal, row.id)
    service.delete_custom_role(session, coordinator.principal, FRAUD.code)
    with pytest.raises(NotFound):
        service.role_detail(session, FRAUD.code)
    assert service.matcher(session).match(posting.title, posting.text).roles[0].code != FRAUD.code
    assert "skills.role.update" in _actions(session) and _actions(session)[-1] == "skills.role.delete"


def test_api_edit_and_delete(client: TestClient, session: Session) -> None:
    uni = make_member(session, kind="university")
    h = bearer(uni.key)
    made = client.post("/api/v1/skills/programmes", json=SOC.model_dump(), headers=h).json()
    body = SOC.model_dump() | {"name": "Renamed"}
    assert client.put(f"/api/v1/skills/programmes/{made['id']}", json=body, headers=h).json()["name"] == "Renamed"
    stranger = bearer(make_member(session).key)
    assert client.delete(f"/api/v1/skills/programmes/{made['id']}", headers=stranger).status_code == 403
    assert client.delete(f"/api/v1/skills/programmes/{made['id']}", headers=h).status_code == 204
    assert client.delete(f"/api/v1/skills/programmes/{made['id']}", headers=h).status_code == 404

    client.post("/api/v1/skills/postings", json={"postings": [{"id": "a", "title": "SOC", "text": "SIEM"}]}, headers=h)
    mine = client.get("/api/v1/skills/postings", headers=h).json()
    assert [p["external_id"] for p in mine] == ["a"]
    assert client.get("/api/v1/skills/postings", headers=stranger).json() == []
    put = client.put(
        f"/api/v1/skills/postings/{mine[0]['id']}", json={"id": "a", "title": "Pentester", "text": "web"}, headers=h
    )
    assert put.status_code == 200 and len(put.json()["roles"]) >= 5
    assert client.delete(f"/api/v1/skills/postings/{mine[0]['id']}", headers=stranger).status_code == 404
    assert client.delete(f"/api/v1/skills/postings/{mine[0]['id']}", headers=h).status_code == 204

    boss = bearer(make_member(session, coordinator=True).key)
    assert client.post("/api/v1/skills/roles", json=FRAUD.model_dump(), headers=boss).status_code == 201
    edit = FRAUD.model_dump(exclude={"code"}) | {"name_en": "Card fraud lead"}
    assert client.put(f"/api/v1/skills/roles/{FRAUD.code}", json=edit, headers=h).status_code == 403
    assert (
        client.put(f"/api/v1/skills/roles/{FRAUD.code}", json=edit, headers=boss).json()["name_en"] == "Card fraud lead"
    )
    assert client.delete("/api/v1/skills/roles/PD-WRL-001", headers=boss).status_code == 422
    assert client.delete(f"/api/v1/skills/roles/{FRAUD.code}", headers=boss).status_code == 204


def test_pages_edit_and_delete_with_csrf(client: TestClient, session: Session) -> None:
    uni = make_member(session, kind="university")
    log_in(client, uni)
    made = programmes.create_programme(session, uni.principal, SOC)
    session.commit()
    page = client.get(f"/skills/programmes/{made.id}", headers=HTML)
    assert f"/skills/programmes/{made.id}/edit" in page.text
    form = client.get(f"/skills/programmes/{made.id}/edit", headers=HTML)
    assert "S1 | SIEM | Monitor security alerts and analyse logs" in form.text
    token = csrf(form.text)
    data = {"name": "SOC 2", "province": "Huế", "graduates": "25", "courses": "S1 | SIEM | Monitor alerts"}
    assert client.post(f"/skills/programmes/{made.id}/edit", data=data).status_code in (400, 403)  # no CSRF
    saved = client.post(f"/skills/programmes/{made.id}/edit", data=data | {"csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303
    bad = client.post(f"/skills/programmes/{made.id}/edit", data=data | {"csrf_token": token, "graduates": "many"})
    assert bad.status_code == 422 and "graduates per year must be a number" in bad.text
    bad = client.post(f"/skills/programmes/{made.id}/edit", data=data | {"csrf_token": token, "courses": "S1 | x"})
    assert bad.status_code == 422 and "line 1" in bad.text
    client.cookies.set("herdsec_lang", "vi")
    assert "Sửa" in client.get(f"/skills/programmes/{made.id}/edit", headers=HTML).text
    gone = client.post(f"/skills/programmes/{made.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert gone.status_code == 200 and "Đã xóa." in gone.text and "SOC 2" not in gone.text

    client.cookies.set("herdsec_lang", "en")
    market.store_postings(session, uni.principal, [PostingIn(id="x1", title="SOC <b>analyst</b>", text="SIEM")])
    session.commit()
    listing = client.get("/skills/postings", headers=HTML)
    assert "SOC &lt;b&gt;analyst&lt;/b&gt;" in listing.text
    row = session.scalar(select(SkillPosting).where(SkillPosting.external_id == "x1"))
    assert row is not None
    edit = client.get(f"/skills/postings/{row.id}/edit", headers=HTML)
    assert edit.status_code == 200 and "&lt;b&gt;" in edit.text
    changed = {"csrf_token": token, "id": "x1", "title": "Pentester", "text": "web pentest", "date": "2026-13-01"}
    assert "YYYY-MM-DD" in client.post(f"/skills/postings/{row.id}/edit", data=changed).text
    changed["date"] = "2026-05-01"
    assert client.post(f"/skills/postings/{row.id}/edit", data=changed, follow_redirects=False).status_code == 303
    assert client.post(f"/skills/postings/{row.id}/delete", data={"csrf_token": token}).status_code == 200
    assert client.get(f"/skills/postings/{row.id}/edit", headers=HTML).status_code == 404

    assert client.get("/skills/roles/PD-WRL-001/edit", headers=HTML).status_code == 403


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeffcourse_code,course_title,outcome\nA,SIEM,Monitor alerts\n".encode(), None),
        ("course_code,course_title,outcome\nA,SIEM,Monitor alerts\n".encode("utf-16"), None),
        (b"course_code,course_title,outcome\nA,SIEM,\xff\xfe\xfa alerts\x00\x81\n", "ctdt.csv"),
    ],
)
def test_programme_csv_encodings(data: bytes, expected: str | None) -> None:
    if expected is None:
        assert [c.code for c in programmes.read_courses_csv(data, "ctdt.csv")] == ["A"]
    else:
        with pytest.raises(InvalidInput) as err:
            programmes.read_courses_csv(data, "ctdt.csv")
        assert err.value.where is not None and expected in err.value.where


def test_what_the_real_user_review_fixed(client: TestClient, session: Session) -> None:
    """Found walking the issue's stories in a browser: the matcher's folded Vietnamese terms shown as evidence, a
    programme's gaps titled by a bare code with no way on to the market or a student's path, and '—' as a
    province heading."""
    uni = make_member(session, kind="university")
    log_in(client, uni)
    made = programmes.create_programme(session, uni.principal, SOC)
    market.store_postings(session, uni.principal, [PostingIn(id="n", title="Chuyên viên SOC", text="Giám sát SIEM")])
    session.commit()
    token = csrf(client.get("/skills/postings", headers=HTML).text)
    sent = client.post(
        "/skills/postings",
        data={"csrf_token": token, "title": "Chuyên viên ứng cứu sự cố", "text": "Xử lý sự cố an toàn thông tin"},
    )
    assert sent.status_code == 200 and "vi:" not in sent.text
    page = client.get(f"/skills/programmes/{made.id}?role=PD-WRL-001", headers=HTML).text
    assert "Gaps toward Defensive Cybersecurity" in page
    assert "/skills/market?province=Hu%E1%BA%BF" in page and "/skills/me?target=PD-WRL-001" in page
    assert "province not given" in client.get("/skills/market", headers=HTML).text


def test_viewers_are_not_offered_to_change_stored_postings(client: TestClient, session: Session) -> None:
    """The page hides Edit/Delete from a viewer and its edit form refuses them, as the change itself does (403)."""
    bank = make_member(session, "analyst", kind="bank")
    market.store_postings(session, bank.principal, [PostingIn(id="v1", title="Chuyên viên SOC", text="SIEM")])
    row = session.scalar(select(SkillPosting).where(SkillPosting.external_id == "v1"))
    assert row is not None
    viewer_user = make_user(session, bank.org, "viewer")
    viewer = Member(bank.org, viewer_user, principal_of(session, viewer_user), "")
    assert market.may_change_posting(bank.principal, row) and not market.may_change_posting(viewer.principal, row)
    assert not market.may_change_posting(None, row)
    assert market.may_change_posting(make_member(session, "viewer", coordinator=True).principal, row)
    session.commit()
    log_in(client, viewer)
    listing = client.get("/skills/postings", headers=HTML)
    assert listing.status_code == 200 and "Chuyên viên SOC" in listing.text
    assert f"/skills/postings/{row.id}/edit" not in listing.text
    assert f"/skills/postings/{row.id}/delete" not in listing.text
    assert client.get(f"/skills/postings/{row.id}/edit", headers=HTML).status_code == 403
    token = csrf(listing.text)
    data = {"csrf_token": token, "id": "v1", "title": "Pentester", "text": "web"}
    assert client.post(f"/skills/postings/{row.id}/edit", data=data).status_code == 403
    assert client.post(f"/skills/postings/{row.id}/delete", data={"csrf_token": token}).status_code == 403
    client.cookies.clear()
    log_in(client, bank)
    assert f"/skills/postings/{row.id}/edit" in client.get("/skills/postings", headers=HTML).text


@pytest.mark.parametrize("code", ["PD-WRL-001", "ECSF-01"])
def test_no_edit_form_for_catalogue_roles(client: TestClient, session: Session, code: str) -> None:
    """NICE and ECSF roles are reference data: a coordinator gets no edit form for them (404), only for custom ones."""
    boss = make_member(session, coordinator=True)
    service.create_custom_role(session, boss.principal, FRAUD)
    session.commit()
    log_in(client, boss)
    refused = client.get(f"/skills/roles/{code}/edit", headers=HTML)
    assert refused.status_code == 404 and "no custom work role" in refused.text
    assert client.get(f"/skills/roles/{FRAUD.code}/edit", headers=HTML).status_code == 200


def test_editing_a_custom_role_keeps_the_other_details(session: Session) -> None:
    coordinator = make_member(session, coordinator=True)
    service.create_custom_role(session, coordinator.principal, FRAUD)
    role = session.scalar(select(SkillRole).where(SkillRole.code == FRAUD.code))
    assert role is not None
    role.details = {**role.details, "source_url": "https://example.org/fraud", "reviewed": "2026-04"}
    session.flush()
    edit = CustomRoleEdit(**FRAUD.model_dump(exclude={"code"}) | {"aliases": ["card fraud lead"]})
    changed = service.update_custom_role(session, coordinator.principal, FRAUD.code, edit)
    assert changed.vi_source == "author" and changed.details == {
        "source_url": "https://example.org/fraud",
        "reviewed": "2026-04",
        "aliases": ["card fraud lead"],
    }


def test_role_edit_form_with_an_unknown_statement_keeps_what_was_typed(client: TestClient, session: Session) -> None:
    boss = make_member(session, coordinator=True)
    service.create_custom_role(session, boss.principal, FRAUD)
    session.commit()
    log_in(client, boss)
    token = csrf(client.get(f"/skills/roles/{FRAUD.code}/edit", headers=HTML).text)
    typed = {
        "name_en": "Card fraud lead",
        "name_vi": "Trưởng nhóm chống gian lận thẻ",
        "text_en": "Leads the card fraud desk.",
        "text_vi": "",
        "category": "",
        "statements": "Q9999",
        "aliases": "fraud lead; trưởng nhóm gian lận",
    }
    bad = client.post(f"/skills/roles/{FRAUD.code}/edit", data=typed | {"csrf_token": token})
    assert bad.status_code == 422 and "Q9999" in bad.text and "unknown statement" in bad.text
    assert 'value="Card fraud lead"' in bad.text and 'value="Trưởng nhóm chống gian lận thẻ"' in bad.text
    assert ">Leads the card fraud desk.</textarea>" in bad.text and ">Q9999</textarea>" in bad.text
    assert 'value="fraud lead; trưởng nhóm gian lận"' in bad.text
    assert service.role_detail(session, FRAUD.code).name_en == FRAUD.name_en  # nothing saved
