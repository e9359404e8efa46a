"""Curricula, people, market and teams: coverage arithmetic and the services on the real database."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy.orm import Session

from herdsec.core.errors import InvalidInput, PermissionDenied
from herdsec.skills import market, programmes
from herdsec.skills.coverage import role_coverage, shortest_path, team_by_category, team_coverage
from herdsec.skills.schemas import CourseIn, PostingIn, ProfileIn, ProgrammeIn, TeamIn
from tests.factories import make_member

ROLES = {"A": ["T1", "K1", "S1", "K2"], "B": ["T2", "K2"], "C": ["T3", "K3", "S3"]}
KINDS = {
    "T1": "task",
    "T2": "task",
    "T3": "task",
    "K1": "knowledge",
    "K2": "knowledge",
    "K3": "knowledge",
    "S1": "skill",
    "S3": "skill",
}


def test_role_coverage_counts_per_kind_and_ranks() -> None:
    cov = role_coverage({"T2", "K2", "K1"}, ROLES, KINDS)
    assert [(c.code, c.share) for c in cov] == [("B", 1.0), ("A", 0.5), ("C", 0.0)]
    assert cov[1].by_kind == {"task": (0, 1), "knowledge": (2, 2), "skill": (0, 1)}


def test_shortest_path_takes_the_course_covering_most_first() -> None:
    courses = [(1, "one", "P", ["T1"]), (2, "two", "P", ["T1", "S1"]), (3, "three", "P", ["K9"])]
    path = shortest_path("A", {"K2"}, ROLES, courses)
    assert path.missing == ["K1", "S1", "T1"]
    assert [(s.course_id, s.covers) for s in path.courses] == [(2, ["S1", "T1"])]
    assert path.uncovered == ["K1"]


def test_team_coverage_advises_hire_or_train() -> None:
    lines = team_coverage(["A", "B", "C"], {"B": 2}, ROLES, KINDS, {"A": "PD", "B": "PD", "C": "IO"})
    advice = {line.code: (line.advice, line.share) for line in lines}
    assert advice == {"A": ("hire", 0.25), "B": ("covered", 1.0), "C": ("hire", 0.0)}
    assert lines[0].tasks == (0, 1) and lines[0].knowledge_skills == (1, 3)


def test_team_by_category_counts_a_statement_two_needed_roles_share_once() -> None:
    # A and B (both PD) share K2; the team holds C only, then B.
    summary = team_by_category(["A", "B", "C"], {"C": 1}, ROLES, KINDS, {"A": "PD", "B": "PD", "C": "IO"})
    assert [(c.category, c.tasks, c.knowledge_skills) for c in summary] == [
        ("IO", (1, 1), (2, 2)),
        ("PD", (0, 2), (0, 3)),  # T1, T2; K1, S1, K2 (K2 once, not twice)
    ]
    with_b = team_by_category(["A", "B"], {"B": 2, "A": 0}, ROLES, KINDS, {"A": "PD", "B": "PD"})
    assert [(c.category, c.tasks, c.knowledge_skills) for c in with_b] == [("PD", (1, 2), (1, 3))]


PROGRAMME = ProgrammeIn(
    name="Kỹ sư An toàn thông tin",
    province="Đà Nẵng",
    graduates_per_year=90,
    courses=[
        CourseIn(
            code="ATTT401", title="Kiểm thử xâm nhập", outcomes=["Thực hiện kiểm thử xâm nhập và khai thác lỗ hổng"]
        ),
        CourseIn(
            code="ATTT301", title="Ứng cứu sự cố", outcomes=["Xử lý sự cố an toàn thông tin và khôi phục hệ thống"]
        ),
    ],
)


def test_a_university_sees_the_roles_its_programme_prepares_for_and_the_gaps(session: Session) -> None:
    uni = make_member(session, kind="university")
    created = programmes.create_programme(session, uni.principal, PROGRAMME)
    assert all(c.statements for c in created.courses)
    top = [c.code for c in programmes.programme_coverage(session, created.id)[:5]]
    assert "PD-WRL-007" in top or "PD-WRL-003" in top
    assert programmes.programmes_for_role(session, "PD-WRL-007")[0][0].id == created.id
    gaps = programmes.programme_gaps(session, created.id, "PD-WRL-007")
    assert gaps.covered and gaps.missing and not {s.code for s in gaps.covered} & {s.code for s in gaps.missing}


def test_programme_input_is_checked(session: Session) -> None:
    viewer = make_member(session, "viewer", kind="university")
    with pytest.raises(PermissionDenied):
        programmes.create_programme(session, viewer.principal, PROGRAMME)
    uni = make_member(session, kind="university")
    twice = PROGRAMME.model_copy(update={"courses": [PROGRAMME.courses[0], PROGRAMME.courses[0]]})
    with pytest.raises(InvalidInput, match="duplicated course code"):
        programmes.create_programme(session, uni.principal, twice)


def test_a_student_sees_the_path_to_a_role(session: Session) -> None:
    uni = make_member(session, kind="university")
    created = programmes.create_programme(session, uni.principal, PROGRAMME)
    result = programmes.profile(
        session, ProfileIn(certifications=["Security+", "Chứng chỉ lạ"], ratings={"T1387": 3}, target="PD-WRL-007")
    )
    assert result.unknown_certifications == ["Chứng chỉ lạ"] and "T1387" in result.statements
    assert result.target == "PD-WRL-007" and result.missing
    assert result.courses and result.courses[0].programme == created.name
    missing = {s.code for s in result.missing}
    assert set(result.courses[0].covers) <= missing
    with pytest.raises(InvalidInput, match="unknown statement"):
        programmes.profile(session, ProfileIn(ratings={"T0000": 2}))
    with pytest.raises(InvalidInput, match="from 0 to 4"):
        programmes.profile(session, ProfileIn(ratings={"T1387": 9}))


def test_market_sets_demand_against_supply_and_exports_csv(session: Session) -> None:
    bank = make_member(session, "analyst", kind="bank")
    uni = make_member(session, kind="university")
    programmes.create_programme(session, uni.principal, PROGRAMME)
    items = [
        PostingIn(
            id="1",
            title="Pentester",
            text="Penetration testing of web apps",
            province="Đà Nẵng",
            sector="Banking",
            date=date(2026, 9, 1),
        ),
        PostingIn(
            id="2",
            title="Chuyên viên kiểm thử xâm nhập",
            text="Kiểm thử xâm nhập ứng dụng web",
            province="Đà Nẵng",
            sector="Banking",
            date=date(2026, 10, 1),
        ),
        PostingIn(
            id="3",
            title="SOC analyst",
            text="Monitor SIEM alerts",
            province="Hà Nội",
            sector="Banking",
            date=date(2026, 10, 2),
        ),
    ]
    stored = market.store_postings(session, bank.principal, items)
    assert (stored.stored, stored.replaced) == (3, 0)
    again = market.store_postings(session, bank.principal, items[:1])
    assert (again.stored, again.replaced) == (0, 1)
    cells = {(c.role, c.province): c for c in market.market(session)}
    assert cells[("PD-WRL-007", "Đà Nẵng")].demand == 2 == market.role_demand(session, "PD-WRL-007")
    assert sum(c.supply for c in cells.values() if c.province == "Đà Nẵng") == pytest.approx(90, abs=0.5)
    since = {(c.role, c.province): c for c in market.market(session, since=date(2026, 9, 15))}
    assert since[("PD-WRL-007", "Đà Nẵng")].demand == 1
    rows = list(csv.DictReader(io.StringIO(market.market_csv(market.market(session)))))
    assert rows and set(rows[0]) == {"role", "name_en", "name_vi", "province", "demand", "supply", "gap"}
    assert [p.external_id for p in market.list_postings(session, bank.principal)] == ["3", "2", "1"]
    other = make_member(session)
    assert market.list_postings(session, other.principal) == []  # another member's postings stay theirs
    assert market.demand_by(session, "month", province="Đà Nẵng")["PD-WRL-007"] == {"2026-09": 1, "2026-10": 1}
    assert market.demand_by(session, "sector")["PD-WRL-007"] == {"Banking": 2}
    with pytest.raises(InvalidInput, match="sector or month"):
        market.demand_by(session, "colour")
    # The breakdowns follow the page's filters, as the heatmap does.
    assert market.demand_by(session, "month", since=date(2026, 9, 15))["PD-WRL-007"] == {"2026-10": 1}
    assert market.demand_by(session, "sector", sector="Retail") == {}
    assert market.choices(session) == (["Hà Nội", "Đà Nẵng"], ["Banking"])


def test_team_service_checks_roles(session: Session) -> None:
    lines = market.team(session, TeamIn(team={"IO-WRL-005": 2}, needed=["IO-WRL-005", "PD-WRL-001"]))
    assert next(line.advice for line in lines) == "covered" and lines[1].advice in ("train", "hire")
    with pytest.raises(InvalidInput, match="unknown work role"):
        market.team(session, TeamIn(team={}, needed=["ZZ"]))
    shared = set(programmes.role_map(session)["PD-WRL-001"]) & set(programmes.role_map(session)["PD-WRL-003"])
    assert shared  # the two roles share statements: the category counts them once
    data = TeamIn(team={"IO-WRL-005": 1}, needed=["PD-WRL-001", "PD-WRL-003"])
    (pd,) = market.team_categories(session, data)
    lines = market.team(session, data)
    assert pd.category == "PD"
    assert pd.tasks[1] + pd.knowledge_skills[1] == len(
        set(programmes.role_map(session)["PD-WRL-001"]) | set(programmes.role_map(session)["PD-WRL-003"])
    )
    assert pd.tasks[1] + pd.knowledge_skills[1] < sum(x.tasks[1] + x.knowledge_skills[1] for x in lines)


def test_courses_from_a_spreadsheet_export() -> None:
    data = (
        "\ufeffcourse_code,course_title,outcome\n"
        "ATTT401,Kiểm thử xâm nhập,Kiểm thử ứng dụng web\n"
        "ATTT401,Kiểm thử xâm nhập,Khai thác lỗ hổng\n"
        "ATTT301,An ninh mạng,Cấu hình tường lửa\n"
    ).encode()
    courses = programmes.read_courses_csv(data, "ctdt.csv")
    assert [(c.code, c.outcomes) for c in courses] == [
        ("ATTT401", ["Kiểm thử ứng dụng web", "Khai thác lỗ hổng"]),
        ("ATTT301", ["Cấu hình tường lửa"]),
    ]
    with pytest.raises(InvalidInput, match=r"ctdt.csv:1: CSV header lacks the column\(s\) outcome"):
        programmes.read_courses_csv(b"course_code,course_title\nA,B\n", "ctdt.csv")
    with pytest.raises(InvalidInput, match=r"ctdt.csv:3: course A has two titles"):
        programmes.read_courses_csv(b"course_code,course_title,outcome\nA,B,x\nA,C,y\n", "ctdt.csv")
    with pytest.raises(InvalidInput, match=r"ctdt.csv:2: missing or empty: outcome"):
        programmes.read_courses_csv(b"course_code,course_title,outcome\nA,B,\n", "ctdt.csv")
