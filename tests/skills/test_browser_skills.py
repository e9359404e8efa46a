"""The skills pages in headless Chromium against the demo hub: accessibility, phone layout, and the issue's
"done when" stories (a university, a student, an employer's Vietnamese posting)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser_server import BANK_ADMIN
from tests.test_browser import (
    A11Y_SCRIPT,
    NO_HORIZONTAL_SCROLL,
    base_url,
    browser,
    choose_language,
    desktop,
    log_in,
    phone,
)

pytestmark = pytest.mark.browser
__all__ = ["base_url", "browser", "desktop", "phone"]
UNIVERSITY_ADMIN = "admin@dhktmt.example"
PAGES = (
    "/skills",
    "/skills/roles/PD-WRL-003",
    "/skills/roles/ECSF-12",
    "/skills/crosswalk",
    "/skills/search?q=ki%E1%BB%83m+th%E1%BB%AD+x%C3%A2m+nh%E1%BA%ADp",
    "/skills/postings",
    "/skills/programmes",
    "/skills/me?target=PD-WRL-001",
    "/skills/market",
    "/skills/team",
    "/skills/statements/K0001",
    "/skills/glossary",
    "/skills/roles/ECSF-03",
)


def test_skills_pages_pass_basic_accessibility_checks(desktop: BrowserContext) -> None:
    page = desktop.new_page()
    log_in(page, BANK_ADMIN)
    problems = {}
    for path in PAGES:
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        problems[path] = page.evaluate(A11Y_SCRIPT)
    assert {path: found for path, found in problems.items() if found} == {}


def test_skills_pages_fit_a_phone(phone: BrowserContext) -> None:
    page = phone.new_page()
    log_in(page, BANK_ADMIN)
    for path in ("/skills", "/skills/market", "/skills/postings"):
        page.goto(path)
        assert page.evaluate(NO_HORIZONTAL_SCROLL), f"{path} scrolls sideways on a phone"


def test_an_employers_vietnamese_posting_lands_on_the_right_role(desktop: BrowserContext) -> None:
    page = desktop.new_page()
    log_in(page, BANK_ADMIN)
    page.goto("/skills/postings")
    page.locator("main input[name=title]").fill("Chuyên viên ứng cứu sự cố an toàn thông tin")
    page.locator("main textarea[name=text]").fill(
        "Tiếp nhận và xử lý sự cố an toàn thông tin, ngăn chặn mã độc, khôi phục hệ thống, phối hợp với VNCERT/CC."
    )
    with page.expect_navigation():
        page.locator("main form[action='/skills/postings'] button[type=submit]").click()
    first = page.locator("main section table tbody tr").first
    expect(first).to_contain_text("PD-WRL-003")


def test_a_university_sees_its_roles_and_market_and_a_student_the_path(desktop: BrowserContext) -> None:
    page = desktop.new_page()
    log_in(page, UNIVERSITY_ADMIN)
    page.goto("/skills/programmes")
    with page.expect_navigation():
        page.locator("main table a[href^='/skills/programmes/']").first.click()
    expect(page.locator("main")).to_contain_text("Đà Nẵng")
    expect(page.locator("main h2").nth(1)).to_be_visible()
    page.goto("/skills/me?target=PD-WRL-007")
    page.locator("main input[name=certification][value='Security+']").check()
    with page.expect_navigation():
        page.locator("main form[method=post][action='/skills/me'] button[type=submit]:not([name])").click()
    expect(page.locator("main ol li").first).to_be_visible()


def test_a_student_rates_every_statement_page_by_page_in_vietnamese(desktop: BrowserContext) -> None:
    page = desktop.new_page()
    page.goto("/skills")
    choose_language(page, "vi")
    page.goto("/skills/me?target=PD-WRL-001")
    form = page.locator("main form[method=post][action='/skills/me']")
    with page.expect_navigation():
        form.locator("p[role=group] button[value='knowledge:1']").click()
    first = form.locator("select[name^='rate:']").first
    code = (first.get_attribute("name") or "")[5:]
    first.select_option("3")
    with page.expect_navigation():
        form.locator("button[name=view][value='knowledge:2']").click()
    expect(form).to_contain_text("Trang 2/")
    expect(form.locator(f"input[type=hidden][name='rate:{code}']")).to_have_value("3")
    expect(form.locator("p[role=group] button[value='knowledge:1']")).to_contain_text("đã đánh giá 1/")
    with page.expect_navigation():
        form.locator("button[type=submit]:not([name])").click()
    expect(page.locator("main")).to_contain_text("Lộ trình ngắn nhất đến Phòng thủ an ninh mạng")


def test_a_2017_statement_id_typed_in_the_search_shows_its_successor(desktop: BrowserContext) -> None:
    page = desktop.new_page()
    page.goto("/skills/search")
    page.locator("main input[name=q]").fill("k0001")
    with page.expect_navigation():
        page.locator("main form[role=search] button[type=submit]").click()
    expect(page.locator("main h1")).to_contain_text("K0001")
    expect(page.locator("main")).to_contain_text("K0674")
    expect(page.locator("main")).to_contain_text("successor")


def test_the_programme_edit_form_passes_basic_accessibility_checks(desktop: BrowserContext) -> None:
    page = desktop.new_page()
    log_in(page, UNIVERSITY_ADMIN)
    page.goto("/skills/programmes")
    with page.expect_navigation():
        page.locator("main table a[href^='/skills/programmes/']").first.click()
    with page.expect_navigation():
        page.locator("main a[href$='/edit']").click()
    expect(page.locator("main textarea[name=courses]")).to_contain_text("|")
    assert page.evaluate(A11Y_SCRIPT) == []


# The words each story expects, per language (the demo's Vietnamese names and the NIST English ones).
WORDS = {
    "vi": {
        "category": "Bảo vệ và Phòng thủ",
        "defender": "Phòng thủ an ninh mạng",
        "train": "đào tạo",
        "closest": "gần nhất trong đội: Phòng thủ an ninh mạng",
        "shared": "chỉ được tính một lần",
        "pentester": "Chuyên viên kiểm thử xâm nhập",
        "vuln": "Phân tích lỗ hổng",
        "counterparts": "qua các vai trò NICE tương ứng",
        "narrower": "hẹp hơn",
    },
    "en": {
        "category": "PROTECTION and DEFENSE",
        "defender": "Defensive Cybersecurity",
        "train": "train",
        "closest": "closest in the team: Defensive Cybersecurity",
        "shared": "counts once",
        "pentester": "Penetration Tester",
        "vuln": "Vulnerability Analysis",
        "counterparts": "through its NICE counterparts",
        "narrower": "narrower",
    },
}


def _in_language(page: Page, code: str) -> None:
    page.goto("/skills")
    if page.locator("html").get_attribute("lang") != code:
        choose_language(page, code)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_employer_sees_its_team_coverage_per_category_with_hire_or_train_advice(
    desktop: BrowserContext, lang: str
) -> None:
    words = WORDS[lang]
    page = desktop.new_page()
    log_in(page, BANK_ADMIN)
    _in_language(page, lang)
    page.goto("/skills/team")
    form = page.locator("main form[action='/skills/team']")
    expect(form.locator("th[scope=rowgroup]").first).to_be_visible()  # the roles come grouped by category
    expect(form).to_contain_text(words["category"])
    form.locator("input[name='have:PD-WRL-001']").fill("2")
    form.locator("input[name=need][value='PD-WRL-003']").check()
    form.locator("input[name=need][value='PD-WRL-001']").check()
    form.locator("input[name=need][value='OG-WRL-002']").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    main = page.locator("main")
    summary, needed = main.locator("table").nth(0), main.locator("table").nth(1)
    expect(main).to_contain_text(words["shared"])
    expect(summary.locator("a[href='/skills#PD']")).to_have_text(words["category"])
    response = needed.locator("tr", has=page.locator("a[href='/skills/roles/PD-WRL-003']"))
    expect(response).to_contain_text(words["category"])
    expect(response).to_contain_text(words["train"])
    expect(response).to_contain_text(words["closest"])
    defender = needed.locator("tr", has=page.locator("a[href='/skills/roles/PD-WRL-001']"))
    expect(defender).to_contain_text("100.0 %")
    # the headcount and choices stay in the form for the next try
    expect(form.locator("input[name='have:PD-WRL-001']")).to_have_value("2")
    expect(form.locator("input[name=need][value='OG-WRL-002']")).to_be_checked()
    with page.expect_navigation():
        response.locator("a[href='/skills/me?target=PD-WRL-003']").click()
    expect(page.locator("main form input[name=target]").first).to_have_value("PD-WRL-003")
    assert page.evaluate(A11Y_SCRIPT) == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_ecsf_profile_crosswalk_and_nice_role_link_to_each_other(desktop: BrowserContext, lang: str) -> None:
    words = WORDS[lang]
    page = desktop.new_page()
    _in_language(page, lang)
    with page.expect_navigation():
        page.locator("main a[href='/skills/roles/ECSF-12']").click()
    expect(page.locator("main h1")).to_contain_text(words["pentester"])
    expect(page.locator("main")).to_contain_text(words["counterparts"])
    counterpart = page.locator("main table").first.locator("tr", has=page.locator("a[href='/skills/roles/PD-WRL-007']"))
    expect(counterpart).to_contain_text(words["narrower"])
    expect(counterpart.locator("td").nth(2)).to_have_text(re.compile(r"^\d+$"))  # its job postings, counted
    with page.expect_navigation():
        page.locator("main a[href='/skills/crosswalk']").last.click()
    row = page.locator("main table tr", has=page.locator("a[href='/skills/roles/ECSF-12']")).last
    expect(row).to_contain_text(words["vuln"])
    with page.expect_navigation():
        row.locator("a[href='/skills/roles/PD-WRL-007']").click()
    expect(page.locator("main h1")).to_contain_text("PD-WRL-007")
    expect(page.locator("main a[href='/skills#PD']")).to_have_text(words["category"])
    expect(page.locator("main a[href='/skills/roles/ECSF-12']")).to_have_text(words["pentester"])
    with page.expect_navigation():
        page.locator("main a[href^='/skills/statements/']").first.click()
    expect(page.locator("main h1")).to_be_visible()
    page.go_back()
    with page.expect_navigation():
        page.locator("main a[href='/skills/glossary']").first.click()
    page.locator("main input[name=q]").fill("lo hong")
    with page.expect_navigation():
        page.locator("main form[role=search] button[type=submit]").click()
    term = page.locator("main table a", has_text="lỗ hổng").first
    expect(term).to_be_visible()
    with page.expect_navigation():
        term.click()
    expect(page.locator("main table tbody tr").first.locator("a[href^='/skills/roles/']").first).to_be_visible()
