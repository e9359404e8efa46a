"""The JSON API through HTTP: authentication, errors as problem+json, limits, and the identity endpoints."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.identity.models import ApiKey, Organization
from tests.factories import bearer, make_member

PROBLEM = "application/problem+json"


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/me" in spec["paths"] and "/api/v1/sharing-groups" in spec["paths"]


def test_me(client: TestClient, session: Session) -> None:
    member = make_member(session, "analyst", name="Công ty Cổ phần Á Đông")
    body = client.get("/api/v1/me", headers=bearer(member.key)).json()
    assert body["organization"]["name"] == "Công ty Cổ phần Á Đông"
    assert body["role"] == "analyst" and body["user"]["email"] == member.user.email
    assert body["api_key_prefix"] == member.key.split("_")[1]


def test_missing_malformed_revoked_and_expired_keys_are_401(client: TestClient, session: Session) -> None:
    member = make_member(session, "admin")
    cases = {
        "none": {},
        "malformed": {"Authorization": "Bearer hello"},
        "scheme": {"Authorization": "Token " + member.key},
        "unknown": bearer(member.key[:-5] + "zzzzz"),
    }
    for name, headers in cases.items():
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, name
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["detail"]
    key_id = session.scalar(select(ApiKey.id).where(ApiKey.prefix == member.key.split("_")[1]))
    assert client.delete(f"/api/v1/keys/{key_id}", headers=bearer(member.key)).status_code == 200
    response = client.get("/api/v1/me", headers=bearer(member.key))
    assert response.status_code == 401 and "revoked" in response.json()["detail"]

    other = make_member(session, "viewer")
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == other.key.split("_")[1]))
    assert row is not None
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.flush()
    response = client.get("/api/v1/me", headers=bearer(other.key))
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_basic_auth_password_is_accepted_for_taxii_clients(client: TestClient, session: Session) -> None:
    member = make_member(session, "viewer")
    assert client.get("/api/v1/me", auth=("anything", member.key)).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": "Basic !!!"}).status_code == 401


def test_acting_on_another_organization_is_403(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "admin"), make_member(session, "admin")
    response = client.post(
        f"/api/v1/orgs/{b.org.id}/users",
        headers=bearer(a.key),
        json={"email": "x@x.example", "name": "X", "role": "viewer"},
    )
    assert response.status_code == 403 and response.headers["content-type"].startswith(PROBLEM)
    assert client.get(f"/api/v1/orgs/{b.org.id}/users", headers=bearer(a.key)).status_code == 403
    assert client.get(f"/api/v1/orgs/{a.org.id}/users", headers=bearer(a.key)).status_code == 200


def test_org_admin_cannot_make_itself_coordinator(client: TestClient, session: Session) -> None:
    admin = make_member(session, "admin")
    response = client.patch(f"/api/v1/users/{admin.user.id}", headers=bearer(admin.key), json={"is_coordinator": True})
    assert response.status_code == 403
    assert client.get("/api/v1/me", headers=bearer(admin.key)).json()["user"]["is_coordinator"] is False


def test_coordinator_registers_an_org_and_duplicates_are_409(client: TestClient, session: Session) -> None:
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    body = {"name": "Trường Đại học Cần Thơ (thử)", "kind": "university", "province": "Cần Thơ"}
    created = client.post("/api/v1/orgs", headers=bearer(boss.key), json=body)
    assert created.status_code == 201 and created.json()["name"] == body["name"]
    clash = client.post("/api/v1/orgs", headers=bearer(boss.key), json={**body, "name": body["name"].upper()})
    assert clash.status_code == 409 and clash.json()["where"] == "name"
    assert body["name"] in clash.json()["detail"]
    member = make_member(session, "admin")
    assert client.post("/api/v1/orgs", headers=bearer(member.key), json=body | {"name": "Khác"}).status_code == 403


def test_unknown_kind_is_422_naming_the_field(client: TestClient, session: Session) -> None:
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    response = client.post("/api/v1/orgs", headers=bearer(boss.key), json={"name": "X", "kind": "alien"})
    assert response.status_code == 422 and response.json()["where"] == "kind"


def test_validation_errors_name_the_field_path(client: TestClient, session: Session) -> None:
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    response = client.post("/api/v1/orgs", headers=bearer(boss.key), json={"name": ["not", "a", "string"]})
    assert response.status_code == 422
    wheres = {e["where"] for e in response.json()["errors"]}
    assert {"body.name", "body.kind"} <= wheres
    response = client.post("/api/v1/orgs", headers=bearer(boss.key), json={"name": "X", "kind": "sme", "evil": 1})
    assert response.status_code == 422 and response.json()["where"] == "body.evil"


def test_non_json_bodies_are_415_and_broken_json_422(client: TestClient, session: Session) -> None:
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = client.post(
            "/api/v1/orgs", headers=bearer(boss.key) | {"Content-Type": ctype}, content=b"name=X&kind=sme"
        )
        assert response.status_code == 415, ctype
        assert response.headers["content-type"].startswith(PROBLEM)
    response = client.post(
        "/api/v1/orgs",
        headers=bearer(boss.key) | {"Content-Type": "application/json"},
        content=b'{"name": "X", "kind": ',
    )
    assert response.status_code == 422 and response.json()["where"].startswith("body")


def test_oversized_bodies_are_413_and_nothing_is_stored(client: TestClient, session: Session) -> None:
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    before = session.scalar(select(func.count()).select_from(Organization))
    big = {"name": "Công ty lớn", "kind": "sme", "description": "x" * 100_000}  # limit is 64 KiB in tests
    response = client.post("/api/v1/orgs", headers=bearer(boss.key), json=big)
    assert response.status_code == 413 and response.headers["content-type"].startswith(PROBLEM)

    def chunks() -> object:  # no Content-Length: counted while streaming
        yield b'{"name": "Chunked", "kind": "sme", "description": "'
        for _ in range(100):
            yield b"y" * 1024
        yield b'"}'

    response = client.post(
        "/api/v1/orgs", headers=bearer(boss.key) | {"Content-Type": "application/json"}, content=chunks()
    )  # type: ignore[arg-type]
    assert response.status_code == 413
    assert session.scalar(select(func.count()).select_from(Organization)) == before


def test_key_lifecycle_over_the_api(client: TestClient, session: Session) -> None:
    admin = make_member(session, "admin")
    created = client.post("/api/v1/keys", headers=bearer(admin.key), json={"role": "viewer", "label": "tường lửa"})
    assert created.status_code == 201
    new_key = created.json()["key"]
    assert client.get("/api/v1/me", headers=bearer(new_key)).json()["role"] == "viewer"
    listed = client.get("/api/v1/keys", headers=bearer(admin.key)).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)
    viewer_key = client.post("/api/v1/keys", headers=bearer(new_key), json={"role": "admin"})
    assert viewer_key.status_code == 403


def test_sharing_groups_over_the_api(client: TestClient, session: Session) -> None:
    owner, partner, outsider = make_member(session), make_member(session), make_member(session)
    created = client.post(
        "/api/v1/sharing-groups",
        headers=bearer(owner.key),
        json={"name": "Nhóm Ngân hàng phía Nam", "member_org_ids": [partner.org.id]},
    )
    assert created.status_code == 201
    group_id = created.json()["id"]
    assert {m["id"] for m in created.json()["members"]} == {owner.org.id, partner.org.id}
    assert client.get(f"/api/v1/sharing-groups/{group_id}", headers=bearer(outsider.key)).status_code == 404
    assert client.get("/api/v1/me", headers=bearer(partner.key)).json()["sharing_group_ids"] == [group_id]
    added = client.post(
        f"/api/v1/sharing-groups/{group_id}/members",
        headers=bearer(owner.key),
        json={"organization_id": outsider.org.id},
    )
    assert added.status_code == 200
    removed = client.delete(f"/api/v1/sharing-groups/{group_id}/members/{partner.org.id}", headers=bearer(owner.key))
    assert {m["id"] for m in removed.json()["members"]} == {owner.org.id, outsider.org.id}


def test_audit_over_the_api(client: TestClient, session: Session) -> None:
    admin = make_member(session, "admin")
    client.post("/api/v1/keys", headers=bearer(admin.key), json={"role": "viewer"})
    page = client.get("/api/v1/audit?limit=2", headers=bearer(admin.key)).json()
    assert page["items"][0]["action"] == "apikey.create" and page["items"][0]["ip"] == "testclient"
    assert client.get("/api/v1/audit?next=garbage", headers=bearer(admin.key)).status_code == 422
    assert client.get("/api/v1/audit?limit=0", headers=bearer(admin.key)).status_code == 422


def test_unknown_routes_are_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.headers["content-type"].startswith(PROBLEM)


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


def test_api_docs_are_served_locally_under_the_csp(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "<script>" not in page.text  # no inline script: the CSP forbids it
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert src.startswith("/"), src  # nothing from a CDN
        assert client.get(src).status_code == 200, src
