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
