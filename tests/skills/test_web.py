"""The skills JSON API and pages in-process (thin: the rules are tested in the services)."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import bearer, make_member
from tests.test_pages import csrf, log_in

HTML = {"Accept": "text/html"}


def test_api_catalogue_endpoints(client: TestClient, session: Session) -> None:
    m = make_member(session, "viewer")
    h = bearer(m.key)
    assert client.get("/api/v1/skills/roles", headers=h).status_code == 200
    assert len(client.get("/api/v1/skills/roles", params={"framework": "ecsf"}, headers=h).json()) == 12
    assert len(client.get("/api/v1/skills/groups", params={"kind": "category"}, headers=h).json()) == 5
    role = client.get("/api/v1/skills/roles/SP-RSK-002", headers=h).json()
    assert role["code"] == "OG-WRL-012" and role["resolved_from"] == "SP-RSK-002" and role["tasks"]
    assert client.get("/api/v1/skills/roles/NOPE-1", headers=h).status_code == 404
    assert len(client.get("/api/v1/skills/crosswalk", headers=h).json()) == 28
    hits = client.get("/api/v1/skills/statements", params={"q": "tình báo mối đe dọa"}, headers=h).json()
    assert hits and "threat" in hits[0]["text_en"].lower()
    assert client.get("/api/v1/skills/roles").status_code == 401


def test_api_match_store_market_and_csv(client: TestClient, session: Session) -> None:
    m = make_member(session, "analyst", kind="bank")
    h = bearer(m.key)
    body = {"postings": [{"id": "a", "title": "Chuyên viên SOC", "text": "Giám sát SIEM 24/7", "province": "Hà Nội"}]}
    matched = client.post("/api/v1/skills/match", json=body, headers=h)
    assert matched.status_code == 200 and matched.json()[0]["roles"][0]["id"] == "PD-WRL-001"
    assert len(matched.json()[0]["roles"]) >= 5
    stored = client.post("/api/v1/skills/postings", json=body, headers=h).json()
    assert stored["stored"] == 1
    cells = client.get("/api/v1/skills/market", headers=h).json()
    assert {"role": "PD-WRL-001", "province": "Hà Nội"}.items() <= next(c for c in cells if c["demand"]).items()
    exported = client.get("/api/v1/skills/market", params={"format": "csv"}, headers=h)
    assert exported.headers["content-type"].startswith("text/csv") and "PD-WRL-001" in exported.text
    empty = client.post("/api/v1/skills/match", json={"postings": [{"id": "b", "title": "t", "text": ""}]}, headers=h)
    assert empty.status_code == 422
    blank = client.post("/api/v1/skills/match", json={"postings": [{"id": "b", "title": "t", "text": "  "}]}, headers=h)
    assert blank.status_code == 422 and "blank" in blank.text


def test_api_programmes_profile_team_and_custom_roles(client: TestClient, session: Session) -> None:
    uni = make_member(session, kind="university")
    h = bearer(uni.key)
    programme = {
        "name": "SOC bootcamp",
        "province": "Huế",
        "graduates_per_year": 30,
        "courses": [{"code": "S1", "title": "SIEM", "outcomes": ["Monitor security alerts and analyse logs"]}],
    }
    created = client.post("/api/v1/skills/programmes", json=programme, headers=h)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    coverage = client.get(f"/api/v1/skills/programmes/{pid}/coverage", headers=h).json()
    assert coverage[0]["share"] > 0
    gaps = client.get(f"/api/v1/skills/programmes/{pid}/gaps/PD-WRL-001", headers=h).json()
    assert gaps["missing"]
    profile = client.post(
        "/api/v1/skills/profile", json={"certifications": ["CySA+"], "target": "PD-WRL-001"}, headers=h
    )
    assert profile.status_code == 200 and profile.json()["missing"]
    team = client.post("/api/v1/skills/team", json={"team": {"IO-WRL-004": 1}, "needed": ["PD-WRL-001"]}, headers=h)
    assert team.status_code == 200 and team.json()[0]["advice"] in ("train", "hire")
    role = {"code": "VN-WRL-009", "name_en": "E-government security officer", "name_vi": "Cán bộ an toàn CPĐT"}
    assert client.post("/api/v1/skills/roles", json=role, headers=h).status_code == 403
    boss = make_member(session, coordinator=True)
    assert client.post("/api/v1/skills/roles", json=role, headers=bearer(boss.key)).status_code == 201


def test_pages_in_both_languages(client: TestClient, session: Session) -> None:
    m = make_member(session, "analyst")
    log_in(client, m, "/skills")
    en = client.get("/skills", headers=HTML)
    assert en.status_code == 200 and "Incident Response" in en.text and 'href="/skills"' in en.text
    client.cookies.set("herdsec_lang", "vi")
    vi = client.get("/skills", headers=HTML | {"Accept-Language": "vi"})
    assert "Ứng cứu sự cố" in vi.text and "bản dịch" in vi.text.lower()
    detail = client.get("/skills/roles/PD-WRL-003", headers=HTML)
    assert detail.status_code == 200 and "ECSF-02" in detail.text and "T0" in detail.text
    found = client.get("/skills/search", params={"q": "kiểm thử xâm nhập"}, headers=HTML)
    assert found.status_code == 200 and "penetration" in found.text.lower()
    for path in (
        "/skills/postings",
        "/skills/programmes",
        "/skills/me?target=PD-WRL-007",
        "/skills/market",
        "/skills/team",
    ):
        assert client.get(path, headers=HTML).status_code == 200, path


def test_posting_page_escapes_html_and_names_errors(client: TestClient, session: Session) -> None:
    m = make_member(session, "analyst")
    log_in(client, m, "/skills/postings")
    token = csrf(client.get("/skills/postings").text)
    sent = client.post(
        "/skills/postings",
        data={
            "csrf_token": token,
            "title": "<b>Kỹ sư mạng</b>",
            "text": "<script>alert(1)</script> Cấu hình bộ định tuyến",
        },
    )
    assert sent.status_code == 200 and "IO-WRL-004" in sent.text
    assert "<script>alert(1)</script>" not in sent.text and "&lt;script&gt;" in sent.text
    bad = client.post(
        "/skills/postings",
        data={"csrf_token": token},
        files={"file": ("p.csv", io.BytesIO(b"id,title\n1,x\n"), "text/csv")},
    )
    assert bad.status_code == 422 and "text" in bad.text and "p.csv:1" in bad.text
    lines = "\n".join(json.dumps({"id": str(i), "title": "SOC", "text": "SIEM", "province": "Huế"}) for i in range(2))
    stored = client.post(
        "/skills/postings",
        data={"csrf_token": token, "store": "on"},
        files={"file": ("p.jsonl", io.BytesIO(lines.encode()), "application/json")},
    )
    assert stored.status_code == 200 and stored.text.count("PD-WRL-001") >= 2


def test_programme_me_market_and_team_forms(client: TestClient, session: Session) -> None:
    uni = make_member(session, kind="university")
    log_in(client, uni, "/skills/programmes")
    token = csrf(client.get("/skills/programmes").text)
    bad = client.post("/skills/programmes", data={"csrf_token": token, "name": "X", "courses": "only one part"})
    assert bad.status_code == 422 and "line 1" in bad.text
    made = client.post(
        "/skills/programmes",
        data={
            "csrf_token": token,
            "name": "Kỹ sư ATTT",
            "province": "Đà Nẵng",
            "graduates": "50",
            "courses": "ATTT401 | Kiểm thử xâm nhập | Kiểm thử xâm nhập ứng dụng web; Khai thác lỗ hổng",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert page.status_code == 200 and "PD-WRL-007" in page.text
    role_page = client.get("/skills/roles/PD-WRL-007")
    assert role_page.status_code == 200 and "Kỹ sư ATTT" in role_page.text
    sheet = "course_code,course_title,outcome\nSOC1,Giám sát an ninh,Giám sát cảnh báo SIEM\n".encode("utf-16")
    uploaded = client.post(
        "/skills/programmes",
        data={"csrf_token": token, "name": "SOC", "graduates": "10"},
        files={"file": ("ctdt.csv", io.BytesIO(sheet), "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    me = client.post("/skills/me", data={"csrf_token": token, "target": "PD-WRL-007", "certification": "OSCP"})
    assert me.status_code == 200 and "Kiểm thử xâm nhập" in me.text
    posted = client.post(
        "/skills/postings",
        data={
            "csrf_token": token,
            "store": "on",
            "title": "Pentester",
            "text": "Penetration testing",
            "province": "Huế",
            "sector": "Banking",
        },
    )
    assert posted.status_code == 200
    heat = client.get("/skills/market")
    assert heat.status_code == 200 and "heat-up-" in heat.text and "Banking" in heat.text
    market = client.get("/skills/market.csv")
    assert market.status_code == 200 and market.text.startswith("role,")
    assert client.get("/skills/market", params={"since": "yesterday"}).status_code == 422
    team = client.post("/skills/team", data={"csrf_token": token, "have:IO-WRL-005": "2", "need": "PD-WRL-001"})
    assert team.status_code == 200 and "PD-WRL-001" in team.text
    assert "<td>PROTECTION and DEFENSE</td>" in team.text  # the category's name, not its code
    near = client.post("/skills/team", data={"csrf_token": token, "have:PD-WRL-001": "1", "need": "PD-WRL-003"})
    assert "closest in the team: Defensive Cybersecurity" in near.text  # the closest role's name, not its code
    assert client.post("/skills/team", data={"csrf_token": token}).status_code == 422
    # A headcount that is not a whole number is refused by role, not silently dropped.
    typo = client.post("/skills/team", data={"csrf_token": token, "have:IO-WRL-005": "2 người", "need": "PD-WRL-001"})
    assert typo.status_code == 422 and "IO-WRL-005" in typo.text and 'value="2 người"' in typo.text


def test_the_catalogue_and_the_personal_path_are_public(client: TestClient) -> None:
    for path in ("/skills", "/skills/roles/PD-WRL-001", "/skills/crosswalk", "/skills/search?q=SIEM"):
        assert client.get(path, headers=HTML).status_code == 200, path
    token = csrf(client.get("/skills/me?target=PD-WRL-001", headers=HTML).text)
    path = client.post("/skills/me", data={"csrf_token": token, "target": "PD-WRL-001", "certification": "CySA+"})
    assert path.status_code == 200 and "PD-WRL-001" in path.text
    assert client.post("/skills/me", data={"target": "PD-WRL-001"}).status_code in (400, 403)
    for private in ("/skills/postings", "/skills/programmes", "/skills/market", "/skills/team"):
        response = client.get(private, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), private


def test_a_posting_file_over_the_form_limit_is_an_upload(client: TestClient, session: Session) -> None:
    m = make_member(session, "analyst")
    log_in(client, m, "/skills/postings")
    token = csrf(client.get("/skills/postings").text)
    row = {"title": "Chuyên viên SOC", "text": "Giám sát cảnh báo SIEM, phân tích nhật ký. " * 20}
    lines = "\n".join(json.dumps({"id": str(i), **row}, ensure_ascii=False) for i in range(120)).encode()
    assert len(lines) > 64 * 1024  # over HERDSEC_MAX_BODY_BYTES in the tests' settings
    sent = client.post(
        "/skills/postings",
        data={"csrf_token": token},
        files={"file": ("p.jsonl", io.BytesIO(lines), "application/json")},
    )
    assert sent.status_code == 200 and sent.text.count("<section") == 120


def test_the_glossary_page_finds_a_term_without_accents_and_links_to_its_statements(client: TestClient) -> None:
    page = client.get("/skills/glossary", params={"q": "ung cuu su co"}, headers=HTML)
    assert page.status_code == 200 and "ứng cứu sự cố" in page.text and "incident response" in page.text
    assert "/skills/search?q=%E1%BB%A9ng%20c%E1%BB%A9u%20s%E1%BB%B1%20c%E1%BB%91" in page.text
    assert "tường lửa" not in page.text  # filtered
    english = client.get("/skills/glossary", params={"q": "firewall"}, headers=HTML)
    assert "tường lửa" in english.text


def test_an_ecsf_profile_shows_its_nice_counterparts_and_a_role_its_statements_and_path(client: TestClient) -> None:
    ecsf = client.get("/skills/roles/ECSF-12", headers=HTML)
    assert ecsf.status_code == 200 and "In the hub, through its NICE counterparts" in ecsf.text
    assert 'href="/skills/roles/PD-WRL-007"' in ecsf.text and 'href="/skills/crosswalk"' in ecsf.text
    nice = client.get("/skills/roles/PD-WRL-007", headers=HTML)
    assert 'href="/skills/me?target=PD-WRL-007"' in nice.text and 'href="/skills#PD"' in nice.text
    assert 'href="/skills/statements/' in nice.text and 'href="/skills/roles/ECSF-12"' in nice.text
    index = client.get("/skills", headers=HTML)
    assert '<section id="PD">' in index.text and 'href="/skills/glossary"' in index.text
