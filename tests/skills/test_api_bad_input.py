"""Bad input to the skills JSON API: a clear error naming the field or value, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import bearer, make_member

API = "/api/v1/skills"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/postings", {"postings": [{"id": "a", "title": "SOC", "text": ""}]}),
        ("/postings", {"postings": []}),
        ("/postings", {"postings": [{"id": "a", "title": "SOC", "text": "x" * 300_000}]}),
        ("/programmes", {"name": "", "courses": []}),
        ("/programmes", {"courses": [{"title": "Mạng máy tính"}]}),
        ("/profile", {"target": "NOPE-WRL-999"}),
        ("/profile", {"ratings": "all of them"}),
        ("/team", {"team": {"NOPE-WRL-999": 1}, "needed": ["PD-WRL-001"]}),
        ("/team", {"team": {"IO-WRL-004": -3}}),
    ],
)
def test_bad_bodies_are_refused_with_the_field_named(
    client: TestClient, session: Session, path: str, body: dict[str, Any]
) -> None:
    member = make_member(session, "analyst", kind="university")
    h = bearer(member.key)
    before = client.get(f"{API}/programmes", headers=h).json()
    answer = client.post(f"{API}{path}", json=body, headers=h)
    assert answer.status_code in (404, 413, 422), answer.text  # 413: over HERDSEC_MAX_BODY_BYTES
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    named = problem.get("where") or problem.get("errors") or "NOPE-WRL-999" in problem.get("detail", "")
    assert named or answer.status_code == 413
    assert client.get(f"{API}/programmes", headers=h).json() == before


def test_bad_custom_roles_are_refused(client: TestClient, session: Session) -> None:
    boss = make_member(session, coordinator=True)
    h = bearer(boss.key)
    role = {"code": "VN-WRL-010", "name_en": "E-government security officer", "name_vi": "Cán bộ an toàn CPĐT"}
    assert client.post(f"{API}/roles", json={**role, "code": "not a code"}, headers=h).status_code == 422
    assert client.post(f"{API}/roles", json={"code": "VN-WRL-010"}, headers=h).status_code == 422
    assert client.post(f"{API}/roles", json=role, headers=h).status_code == 201
    again = client.post(f"{API}/roles", json=role, headers=h)
    assert again.status_code == 409, again.text


EDITED_ROLE = {
    "code": "VN-WRL-011",
    "name_en": "Card fraud analyst",
    "name_vi": "Chuyên viên phân tích gian lận thẻ",
    "statements": ["K0732"],
}


@pytest.mark.parametrize(
    ("target", "change", "field", "named"),
    [
        ("role", {"statements": ["K0732", "Q9999"]}, "statements", "Q9999"),
        ("role", {"category": "NO-SUCH-CATEGORY"}, "category", "NO-SUCH-CATEGORY"),
        ("posting", {"title": "   "}, "body.title", "blank"),
        ("programme", {"courses": []}, "body.courses", "courses"),
    ],
)
def test_bad_edits_are_refused_with_the_field_named(
    client: TestClient, session: Session, target: str, change: dict[str, Any], field: str, named: str
) -> None:
    """PUT on a custom role, a stored posting or a programme: 422 naming the field, and nothing changed."""
    boss = bearer(make_member(session, coordinator=True).key)
    uni = bearer(make_member(session, "analyst", kind="university").key)
    role = {k: v for k, v in EDITED_ROLE.items() if k != "code"}
    assert client.post(f"{API}/roles", json=EDITED_ROLE, headers=boss).status_code == 201
    posting = {"id": "e1", "title": "Chuyên viên SOC", "text": "Giám sát SIEM 24/7"}
    assert client.post(f"{API}/postings", json={"postings": [posting], "store": True}, headers=uni).status_code == 200
    posting_id = client.get(f"{API}/postings", headers=uni).json()[0]["id"]
    programme = {"name": "SOC track", "courses": [{"code": "S1", "title": "SIEM", "outcomes": ["Monitor alerts"]}]}
    made = client.post(f"{API}/programmes", json=programme, headers=uni)
    assert made.status_code == 201, made.text
    url, body, h, read = {
        "role": (f"{API}/roles/{EDITED_ROLE['code']}", role, boss, f"{API}/roles/{EDITED_ROLE['code']}"),
        "posting": (f"{API}/postings/{posting_id}", posting, uni, f"{API}/postings"),
        "programme": (f"{API}/programmes/{made.json()['id']}", programme, uni, f"{API}/programmes"),
    }[target]
    before = client.get(read, headers=h).json()
    answer = client.put(url, json=body | change, headers=h)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["where"] == field and named in problem["detail"], problem
    assert client.get(read, headers=h).json() == before
