"""Self-rating over a role's whole statement list: per kind, paged, filtered, ratings kept across pages, 2017 ids
pasted in, in Vietnamese and English."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from herdsec.skills.pages import RATE_PAGE
from tests.test_pages import csrf

HTML = {"Accept": "text/html"}
ROLE = "OG-WRL-012"  # Security Control Assessor: the longest statement list (307)


def _selects(html: str) -> list[str]:
    return re.findall(r'<select id="rate-[A-Z0-9]+" name="rate:([A-Z0-9]+)"', html)


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="rate:([A-Z0-9]+)" value="(\d)">', html))


def test_every_statement_of_a_long_role_can_be_rated(client: TestClient) -> None:
    first = client.get(f"/skills/me?target={ROLE}", headers=HTML)
    assert first.status_code == 200
    token = csrf(first.text)
    seen: set[str] = set()
    totals = {}
    for kind in ("task", "knowledge", "skill"):
        page, pages = 1, None
        while True:
            shown = client.post(
                "/skills/me", data={"csrf_token": token, "target": ROLE, "view": f"{kind}:{page}"}, headers=HTML
            )
            assert shown.status_code == 200
            codes = _selects(shown.text)
            assert 0 < len(codes) <= RATE_PAGE
            seen |= set(codes)
            pages = pages or int(re.search(r"Page \d+ of (\d+)", shown.text).group(1))  # type: ignore[union-attr]
            if page == pages:
                break
            page += 1
        totals[kind] = pages
    assert len(seen) == 307 and totals["knowledge"] > 2


def test_ratings_ride_along_pages_and_count_in_the_result(client: TestClient) -> None:
    token = csrf(client.get(f"/skills/me?target={ROLE}", headers=HTML).text)
    page1 = client.post("/skills/me", data={"csrf_token": token, "target": ROLE, "view": "knowledge:1"}, headers=HTML)
    code = _selects(page1.text)[0]
    page2 = client.post(
        "/skills/me",
        data={"csrf_token": token, "target": ROLE, "view": "knowledge:2", f"rate:{code}": "3"},
        headers=HTML,
    )
    assert _hidden(page2.text) == {code: "3"} and code not in _selects(page2.text)
    assert "1 of " in page2.text  # the kind button counts one knowledge statement rated
    result = client.post("/skills/me", data={"csrf_token": token, "target": ROLE, f"rate:{code}": "3"}, headers=HTML)
    assert result.status_code == 200 and "Shortest path" in result.text


def test_the_filter_finds_statements_in_english_and_vietnamese(client: TestClient) -> None:
    token = csrf(client.get(f"/skills/me?target={ROLE}", headers=HTML).text)
    en = client.post(
        "/skills/me", data={"csrf_token": token, "target": ROLE, "view": "knowledge:1", "q": "privacy"}, headers=HTML
    )
    codes = _selects(en.text)
    assert codes and re.search(r"\d+ statements? match", en.text)
    client.cookies.set("herdsec_lang", "vi")
    vi = client.post(
        "/skills/me",
        data={"csrf_token": token, "target": ROLE, "view": "knowledge:1", "q": "quyền riêng tư"},
        headers=HTML,
    )
    assert vi.status_code == 200 and set(_selects(vi.text)) & set(codes) and "tuyên bố khớp" in vi.text


def test_pasted_2017_ratings_count_for_their_successors(client: TestClient) -> None:
    token = csrf(client.get("/skills/me?target=OG-WRL-001", headers=HTML).text)
    shown = client.post(
        "/skills/me",
        data={"csrf_token": token, "target": "OG-WRL-001", "paste": "T0098=3\nA0001=2\nnonsense\nK0001=9"},
        headers=HTML,
    )
    assert shown.status_code == 200
    assert "T0098 (2017) counts as T1189." in shown.text
    assert "Not used: nonsense, K0001=9, A0001" in shown.text


def test_numbers_in_other_scripts_are_not_a_crash(client: TestClient) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` raises: a page or a rating written so is ignored, not a 500."""
    token = csrf(client.get(f"/skills/me?target={ROLE}", headers=HTML).text)
    shown = client.post(
        "/skills/me",
        data={"csrf_token": token, "target": ROLE, "view": "task:²", "rate:T1189": "²"},
        headers=HTML,
    )
    assert shown.status_code == 200 and "Page 1 of" in shown.text and _hidden(shown.text) == {}
