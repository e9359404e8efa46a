"""Server-rendered pages in-process: login, CSRF, language choice, escaping, the management forms."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.db import Database
from herdsec.core.i18n import translate
from herdsec.core.settings import Settings
from herdsec.identity.models import Organization
from herdsec.web.app import create_app
from tests.factories import PASSWORD, Member, make_member

HTML = {"Accept": "text/html"}


def csrf(page_html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "page has no CSRF token"
    return found.group(1)


def log_in(client: TestClient, member: Member, next_url: str = "/account") -> None:
    token = csrf(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": member.user.email, "password": PASSWORD, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == next_url


def test_home_explains_the_hub_to_a_visitor(client: TestClient) -> None:
    page = client.get("/", headers=HTML | {"Accept-Language": "en"})
    assert page.status_code == 200 and "herd immunity" in page.text and 'href="/login"' in page.text


def test_accept_language_picks_vietnamese(client: TestClient) -> None:
    page = client.get("/", headers=HTML | {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    assert '<html lang="vi">' in page.text
    assert translate("Log in", "vi") in page.text and translate("Log in", "vi") != "Log in"


def test_pages_need_a_login(client: TestClient) -> None:
    response = client.get("/keys", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/keys")


def test_wrong_password_shows_the_form_again(client: TestClient, session: Session) -> None:
    member = make_member(session, "viewer")
    token = csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"email": member.user.email, "password": "nope nope nope", "csrf_token": token}
    )
    assert response.status_code == 401 and 'name="password"' in response.text


def test_login_without_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    member = make_member(session, "viewer")
    client.get("/login")
    response = client.post("/login", data={"email": member.user.email, "password": PASSWORD})
    assert response.status_code == 403


def test_forms_need_the_csrf_token(client: TestClient, session: Session) -> None:
    member = make_member(session, "admin")
    log_in(client, member)
    assert client.post("/keys", data={"role": "viewer", "label": "x"}).status_code == 403
    assert client.post("/keys", data={"role": "viewer", "label": "x", "csrf_token": "f" * 40}).status_code == 403
    token = csrf(client.get("/keys").text)
    assert client.post("/keys", data={"role": "viewer", "label": "x", "csrf_token": token}).status_code == 201


def test_create_and_revoke_a_key_in_the_page(client: TestClient, session: Session) -> None:
    member = make_member(session, "analyst")
    log_in(client, member, "/keys")
    page = client.get("/keys")
    created = client.post("/keys", data={"role": "analyst", "label": "SIEM", "csrf_token": csrf(page.text)})
    key = re.search(r'id="new-key">([^<]+)<', created.text)
    assert key and created.headers["cache-control"] == "no-store"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key.group(1)}"}).status_code == 200
    assert client.get("/keys").text.count(key.group(1)) == 0  # shown once
    key_id = re.findall(r'action="/keys/(\d+)/revoke"', created.text)[0]
    client.post(f"/keys/{key_id}/revoke", data={"csrf_token": csrf(page.text)})
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key.group(1)}"}).status_code == 401


def test_language_switch_is_saved_on_the_user(client: TestClient, session: Session) -> None:
    member = make_member(session, "viewer")
    log_in(client, member)
    token = csrf(client.get("/account").text)
    client.post("/language", data={"lang": "vi", "next": "/account", "csrf_token": token})
    client.cookies.delete("herdsec_lang")  # the user's own setting wins even without the cookie
    page = client.get("/account", headers={"Accept-Language": "en"})
    assert '<html lang="vi">' in page.text


def test_language_switch_for_visitors_uses_a_cookie(client: TestClient) -> None:
    token = csrf(client.get("/").text)
    response = client.post(
        "/language", data={"lang": "vi", "next": "https://evil.example/", "csrf_token": token}, follow_redirects=False
    )
    assert response.headers["location"] == "/"  # no open redirect
    assert '<html lang="vi">' in client.get("/", headers={"Accept-Language": "en"}).text


def test_login_next_is_never_an_open_redirect(client: TestClient, session: Session) -> None:
    member = make_member(session, "viewer")
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        token = csrf(client.get("/login").text)
        response = client.post(
            "/login",
            data={"email": member.user.email, "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/account", target


def test_html_in_names_is_escaped(client: TestClient, session: Session) -> None:
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    log_in(client, boss, "/orgs")
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = client.post("/orgs", data={"name": evil, "kind": "sme", "csrf_token": csrf(client.get("/orgs").text)})
    assert response.status_code == 200  # followed the redirect to the new organization
    assert evil not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert evil not in client.get("/orgs").text


def test_coordinator_registers_and_manages_an_org_in_pages(client: TestClient, session: Session) -> None:
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    log_in(client, boss, "/orgs")
    token = csrf(client.get("/orgs").text)
    created = client.post(
        "/orgs",
        data={
            "name": "Công ty TNHH An Phát",
            "kind": "sme",
            "province": "Hải Phòng",
            "size_band": "small",
            "csrf_token": token,
        },
    )
    assert created.status_code == 200 and "Công ty TNHH An Phát" in created.text
    org_id = session.scalar(select(Organization.id).where(Organization.name == "Công ty TNHH An Phát"))
    dup = client.post("/orgs", data={"name": "công ty tnhh an phát", "kind": "sme", "csrf_token": token})
    assert dup.status_code == 422 and "Công ty TNHH An Phát" in dup.text
    added = client.post(
        f"/orgs/{org_id}/users",
        data={
            "email": "ceo@anphat.example",
            "name": "Lê Văn C",
            "role": "admin",
            "password": "mật khẩu dài dài",
            "csrf_token": token,
        },
    )
    assert added.status_code == 200 and "ceo@anphat.example" in added.text
    bad = client.post(
        f"/orgs/{org_id}/users", data={"email": "not-an-email", "name": "X", "role": "admin", "csrf_token": token}
    )
    assert bad.status_code == 422 and "not-an-email" in bad.text


def test_member_pages_refuse_other_orgs_management(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "admin"), make_member(session, "admin")
    log_in(client, a)
    token = csrf(client.get("/account").text)
    response = client.post(
        f"/orgs/{b.org.id}/users", data={"email": "x@x.example", "name": "X", "role": "viewer", "csrf_token": token}
    )
    assert response.status_code == 422 and "another organization" in response.text
    assert b.user.email not in client.get(f"/orgs/{b.org.id}").text


def test_groups_and_audit_pages(client: TestClient, session: Session) -> None:
    owner, partner = make_member(session, "admin"), make_member(session, "admin")
    log_in(client, owner, "/groups")
    token = csrf(client.get("/groups").text)
    created = client.post(
        "/groups", data={"name": "Nhóm Miền Bắc", "members": [str(partner.org.id)], "csrf_token": token}
    )
    assert created.status_code == 200 and partner.org.name in created.text
    audit = client.get("/audit")
    assert audit.status_code == 200 and "group.create" in audit.text


@pytest.mark.parametrize("path", ["/", "/login", "/account", "/orgs", "/keys", "/groups", "/audit"])
def test_every_page_renders_in_both_languages(client: TestClient, session: Session, path: str) -> None:
    member = make_member(session, "admin")
    log_in(client, member)
    for lang in ("vi", "en"):
        client.cookies.set("herdsec_lang", lang)
        page = client.get(path)
        assert page.status_code == 200, (path, lang)
        assert "<h1" in page.text


def test_translations_are_escaped_not_injected(client: TestClient, session: Session) -> None:
    member = make_member(session, "viewer")
    log_in(client, member, "/keys")
    for lang in ("en", "vi"):
        client.cookies.set("herdsec_lang", lang)
        page = client.get("/keys").text
        assert "Bearer &lt;key&gt;" in page, lang  # shown as text, not parsed as a tag


def test_audit_details_are_readable_vietnamese(client: TestClient, session: Session) -> None:
    admin = make_member(session, "admin")
    log_in(client, admin, "/audit")
    token = csrf(client.get("/keys").text)
    client.post("/keys", data={"role": "viewer", "label": "Tường lửa chi nhánh", "csrf_token": token})
    page = client.get("/audit").text
    assert "Tường lửa chi nhánh" in page and "\\u" not in page


def test_an_unexpected_error_gives_the_error_page_or_a_problem_body(settings: Settings, db: Database) -> None:
    """A bug in a handler never shows a blank page: browsers get the hub's page (translated), API clients JSON."""
    app = create_app(settings, database=db)

    @app.get("/broken")
    @app.get("/api/v1/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        page = client.get("/broken", headers={"accept": "text/html", "accept-language": "vi"})
        assert page.status_code == 500 and "text/html" in page.headers["content-type"]
        assert "Đã có lỗi trên hệ thống" in page.text and "<nav" in page.text and "a bug" not in page.text
        api = client.get("/api/v1/broken")
        assert api.status_code == 500 and api.headers["content-type"] == "application/problem+json"
        assert api.json()["status"] == 500 and "a bug" not in api.text
